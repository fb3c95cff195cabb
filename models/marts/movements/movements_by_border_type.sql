{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['entries_exits']) }}",
) }}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('fct_observations') }}
    where source = 'entries_exits'
        and {{ touched_keys('reporting_country_code', 'year', ['entries_exits']) }}

),

border_types as (

    select * from {{ ref('code_lists') }}
    where codelist = 'border_types'

),

port_cells as (

    {{ canonical_cells('observations', ['port'], detail_only=false) }}

),

by_border_type as (

    select
        reporting_country_code,
        year,
        flow_code,
        coalesce(border_type, '_U') as border_type,
        sum(value) as movements,
        {{ combine_flags('obs_flag') }} as obs_flag

    from port_cells
    group by 1, 2, 3, 4

),

final as (

    select
        by_border_type.reporting_country_code,
        by_border_type.year,
        by_border_type.flow_code,
        by_border_type.border_type,
        border_types.name_es as border_type_name_es,
        border_types.name_en as border_type_name_en,
        by_border_type.movements,
        by_border_type.movements / nullif(sum(by_border_type.movements) over (
            partition by
                by_border_type.reporting_country_code,
                by_border_type.year,
                by_border_type.flow_code
        ), 0) as share,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        by_border_type.obs_flag

    from by_border_type
    left join border_types
        on by_border_type.border_type = border_types.code

)

select * from final
