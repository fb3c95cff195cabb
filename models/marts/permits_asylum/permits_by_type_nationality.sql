{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['residence_permits', 'work_permits']) }}",
) }}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('fct_observations') }}
    where source in ('residence_permits', 'work_permits')
        and {{ touched_keys('reporting_country_code', 'year', ['residence_permits', 'work_permits']) }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

permit_types as (

    select * from {{ ref('code_lists') }}
    where codelist = 'permit_types'

),

nationality_cells as (

    {{ canonical_cells('observations', ['nationality'], detail_only=false) }}

),

by_type_nationality as (

    select
        reporting_country_code,
        year,
        source,
        coalesce(permit_type_code, '_T') as permit_type_code,
        nationality_code,
        sum(value) as permits,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationality_cells
    group by 1, 2, 3, 4, 5

),

final as (

    select
        by_type_nationality.reporting_country_code,
        by_type_nationality.year,
        by_type_nationality.source,
        by_type_nationality.permit_type_code,
        permit_types.name_es as permit_type_name_es,
        permit_types.name_en as permit_type_name_en,
        by_type_nationality.nationality_code,
        countries.name_es as nationality_name_es,
        countries.name_en as nationality_name_en,
        coalesce(countries.region_code, '_U') as region_code,
        by_type_nationality.permits,
        by_type_nationality.permits / nullif(sum(by_type_nationality.permits) over (
            partition by
                by_type_nationality.reporting_country_code,
                by_type_nationality.year,
                by_type_nationality.source,
                by_type_nationality.permit_type_code
        ), 0) as share_of_type,
        by_type_nationality.permits / nullif(sum(by_type_nationality.permits) over (
            partition by
                by_type_nationality.reporting_country_code,
                by_type_nationality.year,
                by_type_nationality.source
        ), 0) as share_of_source,
        {{ counting_unit(['residence_permits', 'work_permits'], 'permits') }} as counting_unit,
        by_type_nationality.obs_flag

    from by_type_nationality
    left join countries
        on by_type_nationality.nationality_code = countries.country_code
    left join permit_types
        on by_type_nationality.permit_type_code = permit_types.code

)

select * from final
