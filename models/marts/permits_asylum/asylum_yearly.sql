{#- recognition_rate = REC / (REC + CPR + REJ): closed or abandoned cases (CLO) are not
    decisions on the merits and stay out of the denominator. protection_rate counts
    complementary protection as protection too (UNHCR's "total protection rate"). -#}
{#- Merged by key (macros/marts_by_key.sql): an incremental build recomputes only the
    (country, year) rows the touched keys reach, the touched year and the next (its year-on-year
    change reads the touched one). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_touched_keys(['asylum'], years_after=1) }}",
) }}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('fct_observations') }}
    where source = 'asylum'
        and {{ touched_keys('reporting_country_code', 'year', ['asylum'], years_before=1, years_after=1) }}

),

countries as (

    select * from {{ ref('countries') }}

),

age_groups as (

    select * from {{ ref('age_groups') }}

),

application_cells as (

    {{ canonical_cells('observations', [], detail_only=false) }}

),

sex_cells as (

    {{ canonical_cells('observations', ['sex'], detail_only=false) }}

),

age_cells as (

    {{ canonical_cells('observations', ['age_group'], detail_only=false) }}

),

decision_cells as (

    {{ canonical_cells('observations', ['decision'], detail_only=false) }}

),

applications as (

    select
        reporting_country_code,
        year,
        sum(value) as applications,
        {{ combine_flags('obs_flag') }} as obs_flag

    from application_cells
    where measure = 'applications'
    group by 1, 2

),

application_shares as (

    select
        sex_cells.reporting_country_code,
        sex_cells.year,
        sum(case when sex_cells.sex_code = 'F' then sex_cells.value else 0 end)
        / nullif(sum(case when sex_cells.sex_code in ('F', 'M') then sex_cells.value else 0 end), 0)
            as applications_women_share

    from sex_cells
    where sex_cells.measure = 'applications'
    group by 1, 2

),

minors_shares as (

    select
        age_cells.reporting_country_code,
        age_cells.year,
        sum(case when age_groups.is_minor then age_cells.value else 0 end)
        / nullif(sum(age_cells.value), 0) as applications_minors_share

    from age_cells
    left join age_groups
        on age_cells.age_group_code = age_groups.code
    where age_cells.measure = 'applications'
    group by 1, 2

),

decisions as (

    select
        reporting_country_code,
        year,
        sum(value) as decisions_total,
        sum(case when decision_code = 'REC' then value else 0 end) as decisions_recognised,
        sum(case when decision_code = 'CPR' then value else 0 end) as decisions_complementary,
        sum(case when decision_code = 'REJ' then value else 0 end) as decisions_rejected,
        sum(case when decision_code = 'CLO' then value else 0 end) as decisions_closed

    from decision_cells
    where measure = 'decisions'
    group by 1, 2

),

final as (

    select
        applications.reporting_country_code,
        countries.name_es as reporting_country_name_es,
        countries.name_en as reporting_country_name_en,
        applications.year,
        applications.applications,
        application_shares.applications_women_share,
        minors_shares.applications_minors_share,
        applications.applications / nullif(previous_year.applications, 0) - 1
            as applications_yoy_change,
        decisions.decisions_total,
        decisions.decisions_recognised,
        decisions.decisions_complementary,
        decisions.decisions_rejected,
        decisions.decisions_closed,
        decisions.decisions_recognised / nullif(
            decisions.decisions_recognised
            + decisions.decisions_complementary
            + decisions.decisions_rejected, 0
        ) as recognition_rate,
        (decisions.decisions_recognised + decisions.decisions_complementary) / nullif(
            decisions.decisions_recognised
            + decisions.decisions_complementary
            + decisions.decisions_rejected, 0
        ) as protection_rate,
        {{ counting_unit('asylum', 'applications') }} as applications_counting_unit,
        {{ counting_unit('asylum', 'decisions') }} as decisions_counting_unit,
        applications.obs_flag

    from applications
    left join applications as previous_year
        on
            applications.reporting_country_code = previous_year.reporting_country_code
            and applications.year = previous_year.year + 1
    left join application_shares
        on
            applications.reporting_country_code = application_shares.reporting_country_code
            and applications.year = application_shares.year
    left join minors_shares
        on
            applications.reporting_country_code = minors_shares.reporting_country_code
            and applications.year = minors_shares.year
    left join decisions
        on
            applications.reporting_country_code = decisions.reporting_country_code
            and applications.year = decisions.year
    left join countries
        on applications.reporting_country_code = countries.code

)

select * from final
where {{ touched_keys('reporting_country_code', 'year', ['asylum'], years_after=1) }}
