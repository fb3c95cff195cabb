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

age_groups as (

    select * from {{ ref('dim_age_groups') }}

),

age_cells as (

    {{ canonical_cells('observations', ['age_group'], detail_only=false) }}

),

by_age_group as (

    select
        age_cells.reporting_country_code,
        age_cells.year,
        age_cells.flow_code,
        age_cells.age_group_code,
        sum(age_cells.value) as movements,
        {{ combine_flags('age_cells.obs_flag') }} as obs_flag

    from age_cells
    group by 1, 2, 3, 4

),

shares as (

    select
        by_age_group.*,
        age_groups.name_es as age_group_name_es,
        age_groups.name_en as age_group_name_en,
        coalesce(age_groups.is_minor, false) as is_minor,
        age_groups.age_to,
        by_age_group.movements / nullif(sum(by_age_group.movements) over (
            partition by
                by_age_group.reporting_country_code, by_age_group.year, by_age_group.flow_code
        ), 0) as share

    from by_age_group
    left join age_groups
        on by_age_group.age_group_code = age_groups.age_group_code

),

final as (

    select
        reporting_country_code,
        year,
        flow_code,
        age_group_code,
        age_group_name_es,
        age_group_name_en,
        is_minor,
        movements,
        share,
        sum(case when is_minor then share else 0 end) over (
            partition by reporting_country_code, year, flow_code
        ) as minors_share,
        max(case when is_minor then age_to end) over (
            partition by reporting_country_code, year, flow_code
        ) as minors_age_limit,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        obs_flag

    from shares

)

select * from final
