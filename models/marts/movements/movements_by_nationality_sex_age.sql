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

cells as (

    {#- One scan of the observations for both breakdowns (canonical_cells_by_breakdown): a cell
        of a sheet chosen for both comes once for each. #}
    select
        reporting_country_code,
        year,
        month,
        flow_code,
        chosen_breakdown as breakdown,
        case when chosen_breakdown = 'nationality_sex' then nationality_code else '_T' end
            as nationality_code,
        sex_code,
        case when chosen_breakdown = 'age_group_sex' then age_group_code else '_T' end
            as age_group_code,
        value,
        obs_flag
    from ({{ canonical_cells_by_breakdown(
        'observations',
        {'nationality_sex': ['nationality', 'sex'], 'age_group_sex': ['age_group', 'sex']},
        detail_only=false,
    ) }}) as chosen_cells

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
