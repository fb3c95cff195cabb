with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}

),

failures as (

    select * from {{ ref('int_rule_failures_unioned') }}

),

failure_counts as (

    select
        submission_id,
        count(case when severity = 'error' then 1 end) as error_count,
        count(case when severity = 'warn' then 1 end) as warning_count

    from failures
    group by 1

),

final as (

    select
        submissions.submission_id,
        submissions.file_name,
        submissions.sha256,
        submissions.country_code,
        submissions.source,
        submissions.period,
        submissions.first_month,
        submissions.last_month,
        submissions.version,
        submissions.layout,
        verdicts.status,
        coalesce(failure_counts.warning_count, 0) > 0 as has_warnings,
        coalesce(failure_counts.error_count, 0) as error_count,
        coalesce(failure_counts.warning_count, 0) as warning_count,
        coalesce(
            verdicts.failed_error_rules,
            case when submissions.is_rejected then coalesce(submissions.error_rule, 'STR-LAYOUT') end
        ) as failed_error_rules,
        verdicts.is_published,
        verdicts.superseded_by_submission_id,
        verdicts.publication_reason,
        submissions.obs_flag,
        submissions.error_message as rejection_message,
        submissions.error_sheet,
        submissions.error_cell,
        submissions.received_at,
        submissions.loaded_at

    from submissions
    inner join verdicts
        on submissions.submission_id = verdicts.submission_id
    left join failure_counts
        on submissions.submission_id = failure_counts.submission_id

)

select * from final
