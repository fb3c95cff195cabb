with

nationalities as (

    select * from {{ ref('movements_by_nationality') }}
    where traveller_type = 'FOR'

),

regions as (

    select * from {{ ref('m49_regions') }}

),

by_region as (

    select
        reporting_country_code,
        year,
        flow_code,
        region_code,
        sum(movements) as movements,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationalities
    group by 1, 2, 3, 4

),

final as (

    select
        by_region.reporting_country_code,
        by_region.year,
        by_region.flow_code,
        by_region.region_code,
        coalesce(regions.name_es, 'No especificada') as region_name_es,
        coalesce(regions.name_en, 'Not specified') as region_name_en,
        by_region.movements,
        by_region.movements / nullif(sum(by_region.movements) over (
            partition by by_region.reporting_country_code, by_region.year, by_region.flow_code
        ), 0) as share,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        by_region.obs_flag

    from by_region
    left join regions
        on by_region.region_code = regions.region_code

)

select * from final
