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

countries as (

    select * from {{ ref('dim_countries') }}

),

nationality_cells as (

    {{ canonical_cells('observations', ['nationality'], detail_only=false) }}

),

by_nationality as (

    select
        reporting_country_code,
        year,
        flow_code,
        nationality_code,
        traveller_type,
        sum(value) as movements,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationality_cells
    group by 1, 2, 3, 4, 5

),

shares as (

    select
        *,
        movements / nullif(sum(movements) over (
            partition by reporting_country_code, year, flow_code
        ), 0) as share_of_total,
        case
            when traveller_type = 'FOR'
                then movements / nullif(sum(movements) over (
                        partition by reporting_country_code, year, flow_code, traveller_type
                    ), 0)
        end as share_of_foreigners,
        case
            when traveller_type = 'FOR'
                -- row_number() is a bigint on DuckDB, an int on Spark: the contract says bigint.
                then cast(row_number() over (
                        partition by reporting_country_code, year, flow_code, traveller_type
                        order by movements desc, nationality_code asc
                    ) as bigint)
        end as rank_among_foreigners

    from by_nationality

),

final as (

    select
        shares.reporting_country_code,
        shares.year,
        shares.flow_code,
        shares.nationality_code,
        countries.name_es as nationality_name_es,
        countries.name_en as nationality_name_en,
        coalesce(countries.region_code, '_U') as region_code,
        countries.region_name_es,
        countries.region_name_en,
        shares.traveller_type,
        shares.movements,
        shares.share_of_total,
        shares.share_of_foreigners,
        shares.rank_among_foreigners,
        coalesce(shares.rank_among_foreigners <= 10, false) as is_top_10,
        {{ counting_unit('entries_exits', 'movements') }} as counting_unit,
        shares.obs_flag

    from shares
    left join countries
        on shares.nationality_code = countries.country_code

)

select * from final
