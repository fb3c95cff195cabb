{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['irregular_foreigners']) }}",
) }}

with

observations as (

    select * from {{ ref('fct_observations') }}
    where source = 'irregular_foreigners'
        and {{ touched_keys('reporting_country_code', 'year', ['irregular_foreigners']) }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

age_groups as (

    select * from {{ ref('dim_age_groups') }}

),

age_group_flags as (

    select * from {{ ref('age_groups') }}

),

aggregated as (

    {{ breakdown_totals(
        'observations',
        ['nationality', 'sex', 'age_group'],
        [['nationality', 'sex'], ['age_group', 'sex']],
        'presentations'
    ) }}

),

final as (

    select
        aggregated.reporting_country_code,
        aggregated.year,
        aggregated.breakdown,
        aggregated.nationality_code,
        countries.name_es as nationality_name_es,
        countries.name_en as nationality_name_en,
        case when aggregated.nationality_code <> '_T' then coalesce(countries.region_code, '_U') end
            as region_code,
        aggregated.sex_code,
        aggregated.age_group_code,
        age_groups.name_es as age_group_name_es,
        age_groups.name_en as age_group_name_en,
        coalesce(age_groups.is_minor, false) as is_minor,
        coalesce(age_group_flags.is_unaccompanied, false) as is_unaccompanied_minor,
        aggregated.presentations,
        aggregated.presentations / nullif(sum(aggregated.presentations) over (
            partition by aggregated.reporting_country_code, aggregated.year, aggregated.breakdown
        ), 0) as share,
        {{ counting_unit('irregular_foreigners', 'presentations') }} as counting_unit,
        aggregated.obs_flag

    from aggregated
    left join countries
        on aggregated.nationality_code = countries.country_code
    left join age_groups
        on aggregated.age_group_code = age_groups.age_group_code
    left join age_group_flags
        on aggregated.age_group_code = age_group_flags.code

)

select * from final
