{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach, the touched year and the next (its year-on-year
    change reads the touched one). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['entries_exits'], years_after=1) }}",
) }}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('fct_observations') }}
    where source = 'entries_exits'
        and {{ touched_keys('reporting_country_code', 'year', ['entries_exits'], years_before=1, years_after=1) }}

),

months as (

    select * from {{ ref('code_lists') }}
    where codelist = 'months'

),

month_cells as (

    {{ canonical_cells('observations', ['month'], detail_only=false) }}

),

monthly as (

    select
        reporting_country_code,
        year,
        month,
        flow_code,
        sum(value) as movements,
        {{ combine_flags('obs_flag') }} as obs_flag

    from month_cells
    group by 1, 2, 3, 4

),

with_year as (

    select
        *,
        sum(movements) over (partition by reporting_country_code, year, flow_code)
            as year_movements

    from monthly

),

final as (

    select
        with_year.reporting_country_code,
        with_year.year,
        with_year.month,
        months.name_es as month_name_es,
        months.name_en as month_name_en,
        with_year.flow_code,
        with_year.movements,
        with_year.year_movements,
        with_year.movements / nullif(with_year.year_movements, 0) as seasonality_share,
        with_year.movements / nullif(previous_month.movements, 0) - 1 as mom_change,
        with_year.movements / nullif(previous_year.movements, 0) - 1 as yoy_change,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        with_year.obs_flag

    from with_year
    left join monthly as previous_month
        on
            with_year.reporting_country_code = previous_month.reporting_country_code
            and with_year.flow_code = previous_month.flow_code
            and with_year.year * 12 + with_year.month
            = previous_month.year * 12 + previous_month.month + 1
    left join monthly as previous_year
        on
            with_year.reporting_country_code = previous_year.reporting_country_code
            and with_year.flow_code = previous_year.flow_code
            and with_year.month = previous_year.month
            and with_year.year = previous_year.year + 1
    left join months
        on lpad(cast(with_year.month as {{ text_type() }}), 2, '0') = months.code

)

select * from final
where {{ touched_keys('reporting_country_code', 'year', ['entries_exits'], years_after=1) }}
