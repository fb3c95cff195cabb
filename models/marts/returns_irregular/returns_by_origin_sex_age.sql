{#- Three cross-classifications (no sheet crosses all three): by country returned from, by sex,
    by age group and sex. Each is a canonical sheet's cells (macro breakdown_totals). -#}
{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['returns']) }}",
) }}

with

observations as (

    select * from {{ ref('fct_observations') }}
    where source = 'returns'
        and {{ touched_keys('reporting_country_code', 'year', ['returns']) }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

age_groups as (

    select * from {{ ref('dim_age_groups') }}

),

aggregated as (

    {{ breakdown_totals(
        'observations',
        ['country_from', 'sex', 'age_group'],
        [['country_from'], ['sex'], ['age_group', 'sex']],
        'returnees'
    ) }}

),

final as (

    select
        aggregated.reporting_country_code,
        aggregated.year,
        aggregated.breakdown,
        aggregated.country_from_code,
        countries.name_es as country_from_name_es,
        countries.name_en as country_from_name_en,
        aggregated.sex_code,
        aggregated.age_group_code,
        age_groups.name_es as age_group_name_es,
        age_groups.name_en as age_group_name_en,
        coalesce(age_groups.is_minor, false) as is_minor,
        aggregated.returnees,
        aggregated.returnees / nullif(sum(aggregated.returnees) over (
            partition by aggregated.reporting_country_code, aggregated.year, aggregated.breakdown
        ), 0) as share,
        {{ counting_unit('returns', 'returnees') }} as counting_unit,
        aggregated.obs_flag

    from aggregated
    left join countries
        on aggregated.country_from_code = countries.country_code
    left join age_groups
        on aggregated.age_group_code = age_groups.age_group_code

)

select * from final
