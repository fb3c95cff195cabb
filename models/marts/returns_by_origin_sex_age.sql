{#- Three cross-classifications (no sheet crosses all three): by country returned from, by sex,
    by age group and sex. Each is a canonical sheet's detail cells (macro canonical_cells). -#}
with

observations as (

    select * from {{ ref('fct_observations') }}
    where source = 'returns'

),

countries as (

    select * from {{ ref('dim_countries') }}

),

age_groups as (

    select * from {{ ref('dim_age_groups') }}

),

origin_cells as (

    {{ canonical_cells('observations', ['country_from'], detail_only=false) }}

),

sex_cells as (

    {{ canonical_cells('observations', ['sex'], detail_only=false) }}

),

age_sex_cells as (

    {{ canonical_cells('observations', ['age_group', 'sex'], detail_only=false) }}

),

breakdowns as (

    select
        reporting_country_code,
        year,
        'country_from' as breakdown,
        country_from_code,
        '_T' as sex_code,
        '_T' as age_group_code,
        value,
        obs_flag

    from origin_cells

    union all

    select
        reporting_country_code,
        year,
        'sex' as breakdown,
        '_T' as country_from_code,
        sex_code,
        '_T' as age_group_code,
        value,
        obs_flag

    from sex_cells

    union all

    select
        reporting_country_code,
        year,
        'age_group_sex' as breakdown,
        '_T' as country_from_code,
        sex_code,
        age_group_code,
        value,
        obs_flag

    from age_sex_cells

),

aggregated as (

    select
        reporting_country_code,
        year,
        breakdown,
        country_from_code,
        sex_code,
        age_group_code,
        sum(value) as returnees,
        {{ combine_flags('obs_flag') }} as obs_flag

    from breakdowns
    group by 1, 2, 3, 4, 5, 6

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
        'persons' as counting_unit,
        aggregated.obs_flag

    from aggregated
    left join countries
        on aggregated.country_from_code = countries.country_code
    left join age_groups
        on aggregated.age_group_code = age_groups.age_group_code

)

select * from final
