{#-
    values: VAL-001 negative numbers; VAL-002 decimals in a measure counted in whole numbers
    (raw.spec_measures.allow_decimals); VAL-003 text in a number cell; VAL-004 'n.d.' and other
    missing markers (warn: the totals that include the cell cannot be checked); VAL-005 a value
    above the measure's plausible maximum for one cell (raw.spec_measures.max_value, declared
    per measure in specs/sources/); VAL-006 a number that cannot be stored exactly (magnitude
    of 2^53 or more, infinity, NaN: a pasted identifier, an overflowed formula).
    One rule per cell, the first that applies in that order: VAL-003, VAL-004, VAL-006,
    VAL-001, VAL-005, VAL-002. Total over any double: only comparisons, no cast.
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set max_exact = 9007199254740992 %}
{%- set default_max = 1000000000 %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}

),

measures as (

    select * from {{ ref('stg_raw__measures') }}

),

checked as (

    select
        observations.submission_id,
        case
            when observations.value_status = 'text' then 'VAL-003'
            when observations.value_status = 'missing_marker' then 'VAL-004'
            when not abs(observations.value) < {{ max_exact }} then 'VAL-006'
            when observations.value < 0 then 'VAL-001'
            when observations.value > coalesce(measures.max_value, {{ default_max }}) then 'VAL-005'
            when
                observations.value <> round(observations.value)
                and not coalesce(measures.allow_decimals, false)
                then 'VAL-002'
        end as rule_id,
        observations.sheet,
        observations.cell,
        observations.row_number,
        observations.column_number,
        observations.raw_text,
        observations.value,
        coalesce(measures.max_value, {{ default_max }}) as max_value

    from observations
    left join measures
        on observations.source = measures.source and observations.measure = measures.measure

),

final as (

    select
        submission_id,
        rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        case
            when rule_id = 'VAL-002' then {{ format_number('round(value)') }}
            when rule_id = 'VAL-005' then {{ format_number('max_value') }}
            when rule_id = 'VAL-006' then '{{ max_exact - 1 }}'
        end as expected,
        case
            when rule_id in ('VAL-003', 'VAL-004') then raw_text
            when rule_id = 'VAL-006' then coalesce(raw_text, {{ format_number('value') }})
            else {{ format_number('value') }}
        end as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        cast(null as {{ text_type() }}) as detail

    from checked
    where rule_id is not null

)

select * from final
{{ unjudged_submissions_only() }}
