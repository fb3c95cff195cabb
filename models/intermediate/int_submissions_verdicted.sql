{#-
    The lifecycle verdict of every received file version (docs/ARCHITECTURE.md):
    * rejected: the loader could not read it (raw status);
    * quarantined: an error-severity rule of a within-submission family failed (structure,
      values, codes, additivity, completeness, cross_table);
    * accepted: no such failure, and the latest such version (highest submission_id, i.e. the
      last received) of its (country, source, period): this one is published;
    * superseded: no such failure, but a later version of the same key is accepted.
    A quarantined resubmission therefore never hides the previously accepted version.
    plausibility and cross_source rules (warn by design) compare with accepted data and are
    computed after this verdict; they never change it.
-#}

{%- set families = ['structure', 'values', 'codes', 'additivity', 'completeness', 'cross_table'] %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

rules as (

    select * from {{ ref('stg_raw__rules') }}

),

{% for family in families %}
    {{ family }}_failures as (

        select * from {{ ref('int_' ~ family ~ '_failures_detected') }}

    ),

{% endfor %}
failures as (

    {% for family in families %}
        select
            submission_id,
            rule_id
        from {{ family }}_failures
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

error_counts as (

    select
        failures.submission_id,
        count(*) as error_count,
        string_agg(distinct failures.rule_id, ',' order by failures.rule_id) as failed_error_rules

    from failures
    inner join rules
        on failures.rule_id = rules.rule_id
    where rules.severity = 'error'
    group by 1

),

checked as (

    select
        submissions.submission_id,
        submissions.country_code,
        submissions.source,
        submissions.period,
        submissions.is_rejected,
        coalesce(error_counts.error_count, 0) as error_count,
        error_counts.failed_error_rules,
        not submissions.is_rejected and error_counts.error_count is null as is_acceptable

    from submissions
    left join error_counts
        on submissions.submission_id = error_counts.submission_id

),

latest_acceptable as (

    select
        country_code,
        source,
        period,
        max(submission_id) as accepted_submission_id

    from checked
    where is_acceptable
    group by 1, 2, 3

),

final as (

    select
        checked.submission_id,
        checked.country_code,
        checked.source,
        checked.period,
        case
            when checked.is_rejected then 'rejected'
            when not checked.is_acceptable then 'quarantined'
            when checked.submission_id = latest_acceptable.accepted_submission_id then 'accepted'
            else 'superseded'
        end as status,
        checked.error_count,
        checked.failed_error_rules,
        checked.is_acceptable
        and checked.submission_id = latest_acceptable.accepted_submission_id as is_published,
        case
            when
                checked.is_acceptable
                and checked.submission_id <> latest_acceptable.accepted_submission_id
                then latest_acceptable.accepted_submission_id
        end as superseded_by_submission_id

    from checked
    left join latest_acceptable
        on
            checked.country_code = latest_acceptable.country_code
            and checked.source = latest_acceptable.source
            and checked.period = latest_acceptable.period

)

select * from final
