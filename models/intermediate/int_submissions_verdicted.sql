{#-
    The lifecycle verdict of every received file version (docs/ARCHITECTURE.md):
    * rejected: the loader could not read it (raw status);
    * quarantined: an error-severity rule of a blocking family (`families:` in specs/rules.yml:
      those that compare a submission with itself) failed;
    * accepted: no such failure, and the latest such version of its (country, source, period):
      this one is published;
    * superseded: no such failure, but a later version of the same key is accepted;
    * withdrawn: taken out with `migstat withdraw` (raw.withdrawals): never published and never
      supersedes anything, so the previous accepted version of its key is published again.
    A quarantined resubmission therefore never hides the previously accepted version.

    "Latest" is what the office says, not the order files happened to arrive in: the highest
    version number of the metadata (`2`, `v3`, `2.1`), then the latest submission date of the
    metadata (`submitted_on`: ISO date or dd/mm/yyyy), then the last received (received_at,
    then submission_id). A version with a number beats one without; same for dates.
    publication_reason says why the accepted version won over the next one: 'version',
    'date', 'received', or 'only' when it is the only acceptable version. version_rank orders
    the acceptable versions of a key (1 = published).
    Rules of warning families (plausibility, cross_source, revision: warn by design) compare
    with accepted data and are computed after this verdict; they never change it.
-#}

{#- The blocking families of specs/rules.yml (var set by `migstat build`). -#}
{%- set families = var('rule_families_blocking') %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

rules as (

    select * from {{ ref('stg_raw__rules') }}

),

withdrawals as (

    select * from {{ ref('stg_raw__withdrawals') }}

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
        {{ sorted_string_agg('failures.rule_id', ',') }} as failed_error_rules

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
        submissions.received_at,
        {{ try_cast(regexp_extract('submissions.version', '([0-9]{1,9})', 1), 'integer') }}
            as version_major,
        coalesce(
            {{ try_cast(
                regexp_extract('submissions.version', '[0-9]{1,9}[.,]([0-9]{1,9})', 1), 'integer'
            ) }},
            0
        ) as version_minor,
        coalesce(
            {{ try_cast('submissions.submitted_on', 'timestamp') }},
            {{ try_parse_day_month_year('submissions.submitted_on', '/') }},
            {{ try_parse_day_month_year('submissions.submitted_on', '-') }}
        ) as submitted_at,
        coalesce(error_counts.error_count, 0) as error_count,
        error_counts.failed_error_rules,
        withdrawals.submission_id is not null as is_withdrawn,
        not submissions.is_rejected
        and error_counts.error_count is null
        and withdrawals.submission_id is null as is_acceptable

    from submissions
    left join error_counts
        on submissions.submission_id = error_counts.submission_id
    left join withdrawals
        on submissions.submission_id = withdrawals.submission_id

),

ranked_acceptable as (

    select
        submission_id,
        country_code,
        source,
        period,
        version_major,
        version_minor,
        submitted_at,
        row_number() over (
            partition by country_code, source, period
            order by
                version_major desc nulls last,
                version_minor desc,
                submitted_at desc nulls last,
                received_at desc nulls last,
                submission_id desc
        ) as version_rank

    from checked
    where is_acceptable

),

compared_with_next as (

    select
        *,
        lead(submission_id) over by_rank as next_submission_id,
        lead(version_major) over by_rank as next_version_major,
        lead(version_minor) over by_rank as next_version_minor,
        lead(submitted_at) over by_rank as next_submitted_at

    from ranked_acceptable
    window by_rank as (partition by country_code, source, period order by version_rank)

),

latest_acceptable as (

    select
        country_code,
        source,
        period,
        submission_id as accepted_submission_id,
        case
            when next_submission_id is null then 'only'
            when
                version_major is not null
                and (
                    next_version_major is null
                    or version_major <> next_version_major
                    or version_minor <> next_version_minor
                )
                then 'version'
            when
                submitted_at is not null
                and (next_submitted_at is null or submitted_at <> next_submitted_at)
                then 'date'
            else 'received'
        end as publication_reason

    from compared_with_next
    where version_rank = 1

),

final as (

    select
        checked.submission_id,
        checked.country_code,
        checked.source,
        checked.period,
        case
            when checked.is_withdrawn then 'withdrawn'
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
        end as superseded_by_submission_id,
        case
            when checked.submission_id = latest_acceptable.accepted_submission_id
                then latest_acceptable.publication_reason
        end as publication_reason,
        ranked_acceptable.version_rank

    from checked
    left join latest_acceptable
        on
            checked.country_code = latest_acceptable.country_code
            and checked.source = latest_acceptable.source
            and checked.period = latest_acceptable.period
    left join ranked_acceptable
        on checked.submission_id = ranked_acceptable.submission_id

)

select * from final
