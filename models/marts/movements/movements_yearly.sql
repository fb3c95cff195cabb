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

countries as (

    select * from {{ ref('countries') }}

),

nationality_cells as (

    {{ canonical_cells('observations', ['nationality'], detail_only=false) }}

),

sex_cells as (

    {{ canonical_cells('observations', ['sex'], detail_only=false) }}

),

by_traveller_type as (

    select
        reporting_country_code,
        year,
        coalesce(min(first_month), 1) as first_month,
        coalesce(max(last_month), 12) as last_month,
        sum(case when flow_code = 'ENT' and traveller_type = 'NAT' then value end)
            as entries_nationals,
        sum(case when flow_code = 'ENT' and traveller_type = 'FOR' then value end)
            as entries_foreigners,
        sum(case when flow_code = 'EXI' and traveller_type = 'NAT' then value end)
            as exits_nationals,
        sum(case when flow_code = 'EXI' and traveller_type = 'FOR' then value end)
            as exits_foreigners,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationality_cells
    group by 1, 2

),

women_shares as (

    select
        reporting_country_code,
        year,
        sum(case when flow_code = 'ENT' and sex_code = 'F' then value else 0 end)
        / nullif(sum(case when flow_code = 'ENT' and sex_code in ('F', 'M') then value else 0 end), 0)
            as entries_women_share,
        sum(case when flow_code = 'EXI' and sex_code = 'F' then value else 0 end)
        / nullif(sum(case when flow_code = 'EXI' and sex_code in ('F', 'M') then value else 0 end), 0)
            as exits_women_share

    from sex_cells
    group by 1, 2

),

totals as (

    select
        by_traveller_type.*,
        by_traveller_type.entries_nationals + by_traveller_type.entries_foreigners as entries_total,
        by_traveller_type.exits_nationals + by_traveller_type.exits_foreigners as exits_total

    from by_traveller_type

),

final as (

    select
        totals.reporting_country_code,
        countries.name_es as reporting_country_name_es,
        countries.name_en as reporting_country_name_en,
        totals.year,
        totals.first_month,
        totals.last_month,
        totals.entries_nationals,
        totals.entries_foreigners,
        totals.entries_total,
        totals.exits_nationals,
        totals.exits_foreigners,
        totals.exits_total,
        totals.entries_total - totals.exits_total as net_balance,
        totals.entries_nationals - totals.exits_nationals as net_balance_nationals,
        totals.entries_foreigners - totals.exits_foreigners as net_balance_foreigners,
        women_shares.entries_women_share,
        women_shares.exits_women_share,
        totals.entries_total / nullif(previous_year.entries_total, 0) - 1 as entries_yoy_change,
        totals.exits_total / nullif(previous_year.exits_total, 0) - 1 as exits_yoy_change,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        totals.obs_flag

    from totals
    left join totals as previous_year
        on
            totals.reporting_country_code = previous_year.reporting_country_code
            and totals.year = previous_year.year + 1
            {#- like with like: a year to date is compared with the same months only #}
            and totals.first_month = previous_year.first_month
            and totals.last_month = previous_year.last_month
    left join women_shares
        on
            totals.reporting_country_code = women_shares.reporting_country_code
            and totals.year = women_shares.year
    left join countries
        on totals.reporting_country_code = countries.code

)

select * from final
where {{ touched_keys('reporting_country_code', 'year', ['entries_exits'], years_after=1) }}
