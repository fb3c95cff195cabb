{#-
    values: VAL-001 negative numbers; VAL-002 decimals in a measure counted in whole numbers
    (raw.spec_measures.allow_decimals); VAL-003 text in a number cell; VAL-004 'n.d.' and other
    missing markers (warn: the totals that include the cell cannot be checked).
-#}
{{ config(materialized='table') }}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

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
            when observations.value < 0 then 'VAL-001'
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
        observations.value

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
        case when rule_id = 'VAL-002' then {{ format_number('round(value)') }} end as expected,
        case
            when rule_id in ('VAL-003', 'VAL-004') then raw_text
            else {{ format_number('value') }}
        end as found,
        cast(null as varchar) as label,
        cast(null as varchar) as dimension,
        cast(null as varchar) as detail

    from checked
    where rule_id is not null

)

select * from final
