{#-
    revision (warn): a version of a (country, source, period) compared with the version that was
    published when it arrived (the best-ranked acceptable version of the same key received
    before it, int_submissions_verdicted.version_rank), detail cell by detail cell at the same
    coordinates (sheet and every dimension's key, not the cell reference: rows may move):
    * REV-001 a number revised beyond the tolerance: the change exceeds both `absolute` and
      `relative` times the published value; detail is the change in %;
    * REV-002 detail moved into residual codes (OTH other countries, XXX unspecified, _U
      unknown): their share of the sheet's total along a dimension grows by more than
      `residual_share`;
    * REV-003 fewer codes carry data along a dimension of a sheet than in the published
      version (more than `lost_codes` fewer); detail lists the codes that lost their data.
    Warn by design: a revision is information for the analyst, never a reason to keep the
    older numbers. Only numbers are compared (text and 'n.d.' cells are left to VAL-003/004).
-#}
{#- Windowed (macros/marts_by_key.sql): an incremental build judges again the submissions of
    the touched (country, source, year) keys only (a version's comparison changes only with
    the versions of its own key); the other verdicts are kept. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_submissions_to_judge() }}",
) }}

{%- set dimensions = observation_dimensions() %}
{%- set relative = rule_tolerance('REV-001', 'relative', 0.1) %}
{%- set absolute = rule_tolerance('REV-001', 'absolute', 100) %}
{%- set residual_share = rule_tolerance('REV-002', 'residual_share', 0.1) %}
{%- set lost_codes = rule_tolerance('REV-003', 'lost_codes', 0) %}
{%- set residual_codes = "('OTH', 'XXX', '_U')" %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}

),

candidate_pairs as (

    select
        candidates.submission_id,
        previous.submission_id as previous_submission_id,
        row_number() over (
            partition by candidates.submission_id
            order by previous.version_rank
        ) as preference

    from verdicts as candidates
    inner join verdicts as previous
        on
            candidates.country_code = previous.country_code
            and candidates.source = previous.source
            and candidates.period = previous.period
            and previous.submission_id < candidates.submission_id
            and previous.version_rank is not null
    where
        candidates.status <> 'rejected'
        and {{ submissions_to_judge('candidates.submission_id') }}

),

pairs as (

    select
        submission_id,
        previous_submission_id

    from candidate_pairs
    where preference = 1

),

cells as (

    select
        observations.submission_id,
        observations.sheet,
        observations.cell,
        observations.row_number,
        observations.column_number,
        observations.value,
        {%- for dimension in dimensions %}
            {{ dimension_key(dimension) }} as key_{{ dimension }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from observations
    where
        observations.cell_role = 'detail'
        and observations.value_status in ('number', 'zero_marker')
        and observations.submission_id in (
            select submission_id from pairs
            union all
            select previous_submission_id from pairs
        )

),

revised_cells as (

    select
        pairs.submission_id,
        current_cells.sheet,
        current_cells.cell,
        current_cells.row_number,
        current_cells.column_number,
        previous_cells.value as previous_value,
        current_cells.value

    from pairs
    inner join cells as current_cells
        on pairs.submission_id = current_cells.submission_id
    inner join cells as previous_cells
        on
            pairs.previous_submission_id = previous_cells.submission_id
            and current_cells.sheet = previous_cells.sheet
            {%- for dimension in dimensions %}
                and current_cells.key_{{ dimension }} = previous_cells.key_{{ dimension }}
            {%- endfor %}
    where
        abs(current_cells.value - previous_cells.value) > {{ absolute }}
        and abs(current_cells.value - previous_cells.value)
        > {{ relative }} * abs(previous_cells.value)

),

dimension_profiles as (

    {% for dimension in dimensions %}
        select
            submission_id,
            sheet,
            '{{ dimension }}' as dimension,
            sum(case when key_{{ dimension }} in {{ residual_codes }} then value else 0 end)
            / nullif(sum(value), 0) as residual_share,
            count(
                distinct case
                    when key_{{ dimension }} not in {{ residual_codes }} and value <> 0
                        then key_{{ dimension }}
                end
            ) as coded_members,
            min(case when key_{{ dimension }} in {{ residual_codes }} then cell end)
                as residual_cell

        from cells
        where
            key_{{ dimension }} not in ('_T', '-')
            and not {{ is_region_key('key_' ~ dimension) }}
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

coded_members as (

    {% for dimension in dimensions %}
        select distinct
            submission_id,
            sheet,
            '{{ dimension }}' as dimension,
            key_{{ dimension }} as member

        from cells
        where
            key_{{ dimension }} not in ('_T', '-')
            and key_{{ dimension }} not in {{ residual_codes }}
            and not {{ is_region_key('key_' ~ dimension) }}
            and value <> 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

lost_members as (

    select
        pairs.submission_id,
        previous_members.sheet,
        previous_members.dimension,
        {{ sorted_string_agg('previous_members.member', ', ', distinct=false) }} as members

    from pairs
    inner join coded_members as previous_members
        on pairs.previous_submission_id = previous_members.submission_id
    left join coded_members as current_members
        on
            pairs.submission_id = current_members.submission_id
            and previous_members.sheet = current_members.sheet
            and previous_members.dimension = current_members.dimension
            and previous_members.member = current_members.member
    where current_members.member is null
    group by 1, 2, 3

),

profile_changes as (

    select
        pairs.submission_id,
        current_profiles.sheet,
        current_profiles.dimension,
        current_profiles.residual_cell,
        previous_profiles.residual_share as previous_residual_share,
        current_profiles.residual_share,
        previous_profiles.coded_members as previous_coded_members,
        current_profiles.coded_members,
        lost_members.members as lost_members

    from pairs
    inner join dimension_profiles as current_profiles
        on pairs.submission_id = current_profiles.submission_id
    inner join dimension_profiles as previous_profiles
        on
            pairs.previous_submission_id = previous_profiles.submission_id
            and current_profiles.sheet = previous_profiles.sheet
            and current_profiles.dimension = previous_profiles.dimension
    left join lost_members
        on
            pairs.submission_id = lost_members.submission_id
            and current_profiles.sheet = lost_members.sheet
            and current_profiles.dimension = lost_members.dimension

),

final as (

    select
        submission_id,
        'REV-001' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('previous_value') }} as expected,
        {{ format_number('value') }} as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        case
            when previous_value <> 0
                then
                    case when value > previous_value then '+' else '' end
                    || {{ format_number('round(100 * (value - previous_value) / previous_value)') }}
                    || ' %'
        end as detail

    from revised_cells

    union all

    select
        submission_id,
        'REV-002' as rule_id,
        sheet,
        residual_cell as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number('round(100 * coalesce(previous_residual_share, 0), 1)') }} || ' %' as expected,
        {{ format_number('round(100 * residual_share, 1)') }} || ' %' as found,
        'OTH, XXX, _U' as label,
        dimension,
        cast(null as {{ text_type() }}) as detail

    from profile_changes
    where residual_share - coalesce(previous_residual_share, 0) > {{ residual_share }}

    union all

    select
        submission_id,
        'REV-003' as rule_id,
        sheet,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        cast(previous_coded_members as {{ text_type() }}) as expected,
        cast(coded_members as {{ text_type() }}) as found,
        cast(null as {{ text_type() }}) as label,
        dimension,
        lost_members as detail

    from profile_changes
    where previous_coded_members - coded_members > {{ lost_codes }}

)

select * from final
