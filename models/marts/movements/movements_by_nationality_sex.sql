{#- What the country profile's chart "entries and exits by sex" reads: the nationality_sex
    breakdown of movements_by_nationality_sex_age without its age and breakdown columns, with
    the chart's bilingual flow and sex labels stored, not computed. The grain keeps every column
    the dashboard's native filters reach it by (country, year, month, sex, nationality), so each
    filter narrows the chart as before; grouping 2.66 M rows (tier L) by stored labels costs a
    third of grouping them by the dataset's CASE expressions (bench/results/L-superset.md). -#}
{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach, from the mart it reads (already merged). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['entries_exits']) }}",
) }}

with

movements_by_sex as (

    select * from {{ ref('movements_by_nationality_sex_age') }}
    where breakdown = 'nationality_sex'
        and {{ touched_keys('reporting_country_code', 'year', ['entries_exits']) }}

),

final as (

    select
        reporting_country_code,
        year,
        month,
        flow_code,
        -- The labels of the dashboards' datasets (superset/dashboards/datasets/*.yml).
        case flow_code
            when 'ENT' then 'Entradas / Entries'
            when 'EXI' then 'Salidas / Exits'
        end as flow_name,
        nationality_code,
        sex_code,
        case sex_code
            when 'F' then 'Mujeres / Women'
            when 'M' then 'Hombres / Men'
            when '_U' then 'No especificado / Unknown'
            else 'Total'
        end as sex_name,
        movements,
        counting_unit,
        obs_flag

    from movements_by_sex

)

-- Stored in the order the dashboard filters by: a chart filtered to a country (and years) reads
-- only their row groups (DuckDB's min/max zone maps), not the whole table.
select * from final
order by reporting_country_code, year, month
