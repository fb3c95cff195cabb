{#-
    cross_source (warn):
    * XSR-001 an asylum submission's decisions of the year exceed its applications;
    * XSR-002 nationals of country R returned from country X in a year exceed the foreigners of
      nationality R that X (a reporting country) presented to its migration authority that
      year, as X published it; named at the first cell of X's row.
-#}
{#- Windowed (macros/marts_by_key.sql): an incremental build judges again the submissions of
    every year a touched key has (another source or country of the same year may be what they
    are compared with), from that year's cells; the other verdicts are kept. The touched years
    are literals (macro touched_keys). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_submissions_to_judge(any_country=true, any_source=true) }}",
) }}

{%- set decisions_ratio = rule_tolerance('XSR-001', 'ratio', 1.0) %}
{%- set returns_ratio = rule_tolerance('XSR-002', 'ratio', 1.0) %}

{#- Read by each step itself (macro cells_with_verdict): no copy of every cell. #}
{%- set touched_years = touched_keys(none, 'observations.year') %}
{%- set checked_observations = cells_with_verdict("status <> 'rejected' and " ~ touched_years) %}
{%- set published_observations = cells_with_verdict('is_published and ' ~ touched_years) %}

with

asylum_cells as (

    {{ canonical_cells(checked_observations) }}

),

asylum_totals as (

    select
        submission_id,
        sum(case when measure = 'applications' then value else 0 end) as applications,
        sum(case when measure = 'decisions' then value else 0 end) as decisions,
        min(case when measure = 'decisions' then sheet end) as decisions_sheet

    from asylum_cells
    where source = 'asylum'
    group by 1

),

decision_failures as (

    select
        submission_id,
        'XSR-001' as rule_id,
        decisions_sheet as sheet,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number('applications') }} as expected,
        {{ format_number('decisions') }} as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        cast(null as {{ text_type() }}) as detail

    from asylum_totals
    where decisions > {{ decisions_ratio }} * applications

),

returns_cells as (

    {{ canonical_cells(checked_observations, ['country_from']) }}

),

returns_by_origin as (

    select
        submission_id,
        reporting_country_code,
        year,
        sheet,
        country_from_code,
        sum(value) as returnees,
        min(row_number) as first_row,
        min(column_number) as first_column

    from returns_cells
    where source = 'returns'
    group by 1, 2, 3, 4, 5

),

presented_cells as (

    {{ canonical_cells(published_observations, ['nationality']) }}

),

presented_by_nationality as (

    select
        reporting_country_code,
        year,
        nationality_code,
        sum(value) as presentations

    from presented_cells
    where source = 'irregular_foreigners'
    group by 1, 2, 3

),

return_failures as (

    select
        returns_by_origin.submission_id,
        'XSR-002' as rule_id,
        returns_by_origin.sheet,
        {{ column_letter('returns_by_origin.first_column') }}
        || cast(returns_by_origin.first_row as {{ text_type() }}) as cell,
        returns_by_origin.first_row as row_number,
        returns_by_origin.first_column as column_number,
        {{ format_number('presented_by_nationality.presentations') }} as expected,
        {{ format_number('returns_by_origin.returnees') }} as found,
        returns_by_origin.country_from_code as label,
        'country_from' as dimension,
        cast(null as {{ text_type() }}) as detail

    from returns_by_origin
    inner join presented_by_nationality
        on
            returns_by_origin.country_from_code = presented_by_nationality.reporting_country_code
            and returns_by_origin.reporting_country_code = presented_by_nationality.nationality_code
            and returns_by_origin.year = presented_by_nationality.year
    where
        returns_by_origin.country_from_code <> returns_by_origin.reporting_country_code
        and returns_by_origin.returnees > {{ returns_ratio }} * presented_by_nationality.presentations

),

final as (

    select * from decision_failures
    union all
    select * from return_failures

)

select * from final
where {{ submissions_to_judge(any_country=true, any_source=true) }}
