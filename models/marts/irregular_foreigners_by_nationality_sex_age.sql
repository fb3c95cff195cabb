with

observations as (

    select * from {{ ref('fct_observations') }}
    where source = 'irregular_foreigners'

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

nationality_sex_cells as (

    {{ canonical_cells('observations', ['nationality', 'sex'], detail_only=false) }}

),

age_sex_cells as (

    {{ canonical_cells('observations', ['age_group', 'sex'], detail_only=false) }}

),

breakdowns as (

    select
        reporting_country_code,
        year,
        'nationality_sex' as breakdown,
        nationality_code,
        sex_code,
        '_T' as age_group_code,
        value,
        obs_flag

    from nationality_sex_cells

    union all

    select
        reporting_country_code,
        year,
        'age_group_sex' as breakdown,
        '_T' as nationality_code,
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
        nationality_code,
        sex_code,
        age_group_code,
        sum(value) as presentations,
        {{ combine_flags('obs_flag') }} as obs_flag

    from breakdowns
    group by 1, 2, 3, 4, 5, 6

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
        'events' as counting_unit,
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
