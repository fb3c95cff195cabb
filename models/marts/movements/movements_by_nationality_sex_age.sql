{#- What the country profile's charts by sex read (entries and exits by sex; the age and sex
    pyramid), pre-aggregated from fct_observations so their cost does not grow with the fact
    table: one canonical sheet per submission and flow for each breakdown, summed over ports
    and over the submissions of the year, by every column the dashboard filters on. -#}
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

nationality_sex_cells as (

    {{ canonical_cells('observations', ['nationality', 'sex'], detail_only=false) }}

),

age_group_sex_cells as (

    {{ canonical_cells('observations', ['age_group', 'sex'], detail_only=false) }}

),

cells as (

    select
        reporting_country_code,
        year,
        month,
        flow_code,
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
        month,
        flow_code,
        'age_group_sex' as breakdown,
        '_T' as nationality_code,
        sex_code,
        age_group_code,
        value,
        obs_flag
    from age_group_sex_cells

),

final as (

    select
        reporting_country_code,
        year,
        month,
        flow_code,
        breakdown,
        nationality_code,
        sex_code,
        age_group_code,
        sum(value) as movements,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        {{ combine_flags('obs_flag') }} as obs_flag

    from cells
    group by 1, 2, 3, 4, 5, 6, 7, 8

)

-- Stored in the order the dashboard filters by: a chart filtered to a country (and years) reads
-- only their row groups (DuckDB's min/max zone maps), not the whole table.
select * from final
order by breakdown, reporting_country_code, year, month
