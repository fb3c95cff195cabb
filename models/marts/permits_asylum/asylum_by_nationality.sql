{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['asylum']) }}",
) }}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('fct_observations') }}
    where source = 'asylum'
        and {{ touched_keys('reporting_country_code', 'year', ['asylum']) }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

nationality_cells as (

    {{ canonical_cells('observations', ['nationality'], detail_only=false) }}

),

applications as (

    select
        reporting_country_code,
        year,
        nationality_code,
        sum(value) as applications,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationality_cells
    where measure = 'applications'
    group by 1, 2, 3

),

decisions as (

    select
        reporting_country_code,
        year,
        nationality_code,
        sum(value) as decisions_total,
        sum(case when decision_code = 'REC' then value else 0 end) as decisions_recognised,
        sum(case when decision_code = 'CPR' then value else 0 end) as decisions_complementary,
        sum(case when decision_code = 'REJ' then value else 0 end) as decisions_rejected,
        sum(case when decision_code = 'CLO' then value else 0 end) as decisions_closed,
        {{ combine_flags('obs_flag') }} as obs_flag

    from nationality_cells
    where measure = 'decisions'
    group by 1, 2, 3

),

joined as (

    select
        coalesce(applications.reporting_country_code, decisions.reporting_country_code)
            as reporting_country_code,
        coalesce(applications.year, decisions.year) as year,
        coalesce(applications.nationality_code, decisions.nationality_code) as nationality_code,
        coalesce(applications.applications, 0) as applications,
        coalesce(decisions.decisions_total, 0) as decisions_total,
        coalesce(decisions.decisions_recognised, 0) as decisions_recognised,
        coalesce(decisions.decisions_complementary, 0) as decisions_complementary,
        coalesce(decisions.decisions_rejected, 0) as decisions_rejected,
        coalesce(decisions.decisions_closed, 0) as decisions_closed,
        coalesce(applications.obs_flag, decisions.obs_flag) as obs_flag

    from applications
    full outer join decisions
        on
            applications.reporting_country_code = decisions.reporting_country_code
            and applications.year = decisions.year
            and applications.nationality_code = decisions.nationality_code

),

final as (

    select
        joined.reporting_country_code,
        joined.year,
        joined.nationality_code,
        countries.name_es as nationality_name_es,
        countries.name_en as nationality_name_en,
        coalesce(countries.region_code, '_U') as region_code,
        joined.applications,
        joined.applications / nullif(sum(joined.applications) over (
            partition by joined.reporting_country_code, joined.year
        ), 0) as applications_share,
        -- row_number() is a bigint on DuckDB, an int on Spark: the contract says bigint.
        cast(row_number() over (
            partition by joined.reporting_country_code, joined.year
            order by joined.applications desc, joined.nationality_code asc
        ) as bigint) as applications_rank,
        joined.decisions_total,
        joined.decisions_recognised,
        joined.decisions_complementary,
        joined.decisions_rejected,
        joined.decisions_closed,
        joined.decisions_recognised / nullif(
            joined.decisions_recognised + joined.decisions_complementary + joined.decisions_rejected,
            0
        ) as recognition_rate,
        {{ counting_unit('asylum', 'applications') }} as applications_counting_unit,
        {{ counting_unit('asylum', 'decisions') }} as decisions_counting_unit,
        joined.obs_flag

    from joined
    left join countries
        on joined.nationality_code = countries.country_code

)

select * from final
