{#- The ledger of incremental builds: every submission judged so far, with the build (dbt
    invocation) that judged it. The blocking rule models skip the submissions listed here
    (`unjudged_submissions_only()`, macros/incremental.sql), so a verdict once given is kept.
    A submission the containment search set aside (rule STR-BUILD) is not listed: the next
    build judges it again; nor is one failing a date-dependent rule (STR-006, a future period:
    `date_dependent_rules()`), judged again at every build as a full build would. -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}
    {{ submissions_not_in_this() }}

),

date_dependent_failures as (

    select distinct submission_id
    from {{ ref('int_structure_failures_detected') }}
    where rule_id in ('{{ date_dependent_rules() | join("', '") }}')

),

final as (

    select
        verdicts.submission_id,
        submissions.load_status,
        '{{ invocation_id }}' as judged_by_invocation_id

    from verdicts
    inner join submissions
        on verdicts.submission_id = submissions.submission_id
    left join date_dependent_failures
        on verdicts.submission_id = date_dependent_failures.submission_id
    where
        coalesce(submissions.error_rule, '') <> 'STR-BUILD'
        and date_dependent_failures.submission_id is null

)

select * from final
