{#-
    additivity, from data: every (total, part) pair of a sheet is an edge; each total is checked
    once against the sum of its parts. Two kinds of edge:

    * along a dimension read from the coordinates (columns, fixed values, stacked blocks): a cell
      whose key along d is `_T` is the total of the cells of the same sheet that differ from it
      only along d. The comparison runs on a long table of (cell, dimension, key along it, the
      cell's identity without it) and one self-join, so the compiled SQL stays short and its
      cost grows with cells, not with dimensions squared. Along the row dimension a row is
      identified by its place in the table (`row_key`, the path of its labels), not by its
      code: two rows whose labels resolve to one code ("Reino Unido", "Gales") stay two rows.
    * along the rows: the loader placed every row of the table in its declared hierarchy
      (`parent_row`): each row adds up into its parent row, column by column (Total =
      Nacionales + Extranjeros; Extranjeros = its regions + Apátridas; a region = the members
      the table lists under it + its "Otros"). ADD-001 when the parent is the grand total,
      ADD-002 when it is an aggregate row.

    A check is skipped only when its own total or one of its own parts is a text or 'n.d.' cell
    (VAL-003 / VAL-004 report those). Tolerance: the rule's absolute amount, or the submission's
    own (a layout of rounded estimates declares it), whichever is larger, or a share of the
    total.

    ADD-003, a suspect cell: a part of two failing totals along different dimensions that both
    miss by the same amount; correcting that one cell would fix both.

    ADD-004 (a warning), a total left blank although its own parts hold numbers: the total was
    not typed (or a formula lost its value), so the table's own check of its details is missing.
    Reported once per cell, along the first dimension that has parts.
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set dimensions = observation_dimensions() %}
{%- set tolerance = rule_tolerance('ADD-001', 'absolute', 0.5) %}
{#- Per dimension, the other dimensions (a cell's identity without it). -#}
{%- set other_identities = {} %}
{%- for dimension in dimensions %}
    {%- set rest = [] %}
    {%- for other in dimensions if other != dimension %}
        {%- do rest.append('identified.identity_' ~ other) %}
    {%- endfor %}
    {%- do other_identities.update({dimension: rest}) %}
{%- endfor %}
{#- Cost per cell (issue 10): the cells are kept narrow (no key strings: one 64-bit hash per
    dimension of the cell's identity along every other dimension), the parts are summed per
    (sheet, dimension, identity) before they meet their total (one row per check, not one per
    edge), and the checks are joined to their totals once for ADD-001/002 and ADD-004. Only the
    few failing checks go back to their parts (ADD-003) and to their labels. #}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}

),

cells as (

    {#- Narrow: per dimension, whether the cell is a total along it and a 64-bit hash of its
        identity along every other dimension (NULL when the cell has no key along it, or it is
        the row dimension: the rows add up along the table's hierarchy). A cell's identity
        along a dimension is its key, or along the row dimension its place in the table
        (`row_key`); each is hashed once, and the hash without a dimension is a hash of the
        others' hashes. #}
    select
        identified.submission_id,
        identified.sheet,
        identified.cell,
        identified.row_number,
        identified.column_number,
        identified.is_subtotal,
        identified.value,
        identified.is_unusable,
        identified.row_dimension,
        identified.parent_row,
        {%- for dimension in dimensions %}
            identified.key_{{ dimension }} = '_T' as is_total_{{ dimension }},
            case
                when
                    coalesce(identified.row_dimension, '') <> '{{ dimension }}'
                    and identified.key_{{ dimension }} <> '-'
                    then {{ key_hash(other_identities[dimension]) }}
            end as rest_key_{{ dimension }},
        {%- endfor %}
        identified.tolerance_absolute,
        identified.tolerance_relative

    from (
        select
            submission_id,
            sheet,
            cell,
            row_number,
            column_number,
            cell_role = 'subtotal' as is_subtotal,
            value,
            value_status in ('missing_marker', 'text') as is_unusable,
            row_dimension,
            parent_row,
            {%- for dimension in dimensions %}
                {{ dimension_key(dimension) }} as key_{{ dimension }},
                {{ key_hash([
                    "case when row_dimension = '" ~ dimension ~ "' then '=' || coalesce(row_key, '') else "
                    ~ dimension_key(dimension) ~ " end"
                ]) }} as identity_{{ dimension }},
            {%- endfor %}
            greatest(coalesce(tolerance_absolute, 0), {{ tolerance }}) as tolerance_absolute,
            coalesce(tolerance_relative, 0) as tolerance_relative
        from observations
    ) as identified

),

row_part_sums as (

    {#- Along the rows: each row adds up into its parent row, column by column. #}
    select
        submission_id,
        sheet,
        parent_row,
        column_number,
        row_dimension as dimension,
        sum(value) as detail_sum,
        bool_or(is_unusable) as has_unusable_part

    from cells
    where parent_row is not null
    group by submission_id, sheet, parent_row, column_number, row_dimension

),

flagged_checks as (

    {#- Every check joined to its total once; only the checks that fail (ADD-001/002) or whose
        total is blank over numbers (ADD-004) are kept. Along a dimension read from the
        coordinates, the parts of a total are the cells of its sheet with the same identity
        without that dimension and a key other than `_T`: summed per identity first, then
        joined to the totals on integers (one join per dimension). #}
    {%- for dimension in dimensions %}
        select
            totals.submission_id,
            totals.sheet,
            totals.cell,
            totals.row_number,
            totals.column_number,
            totals.value,
            totals.tolerance_absolute,
            '{{ dimension }}' as dimension,
            'ADD-001' as rule_id,
            sums.detail_sum,
            totals.rest_key_{{ dimension }} as rest_key

        from cells as totals
        inner join (
            select
                submission_id,
                sheet,
                rest_key_{{ dimension }} as rest_key,
                sum(value) as detail_sum,
                bool_or(is_unusable) as has_unusable_part
            from cells
            where rest_key_{{ dimension }} is not null and not is_total_{{ dimension }}
            group by submission_id, sheet, rest_key_{{ dimension }}
        ) as sums
            on
                totals.submission_id = sums.submission_id
                and totals.sheet = sums.sheet
                and totals.rest_key_{{ dimension }} = sums.rest_key
        where
            totals.is_total_{{ dimension }}
            and not totals.is_unusable
            and not sums.has_unusable_part
            and (
                (
                    totals.value is not null
                    and abs(totals.value - sums.detail_sum) > greatest(
                        totals.tolerance_absolute, totals.tolerance_relative * abs(totals.value)
                    )
                )
                or (totals.value is null and abs(sums.detail_sum) > totals.tolerance_absolute)
            )

        union all
    {%- endfor %}

    select
        totals.submission_id,
        totals.sheet,
        totals.cell,
        totals.row_number,
        totals.column_number,
        totals.value,
        totals.tolerance_absolute,
        sums.dimension,
        case when totals.is_subtotal then 'ADD-002' else 'ADD-001' end as rule_id,
        sums.detail_sum,
        null as rest_key

    from cells as totals
    inner join row_part_sums as sums
        on
            totals.submission_id = sums.submission_id
            and totals.sheet = sums.sheet
            and totals.row_number = sums.parent_row
            and totals.column_number = sums.column_number
    where
        not totals.is_unusable
        and not sums.has_unusable_part
        and (
            (
                totals.value is not null
                and abs(totals.value - sums.detail_sum) > greatest(
                    totals.tolerance_absolute, totals.tolerance_relative * abs(totals.value)
                )
            )
            or (totals.value is null and abs(sums.detail_sum) > totals.tolerance_absolute)
        )

),

failures as (

    select
        *,
        value - detail_sum as discrepancy
    from flagged_checks
    where value is not null

),

failing_edges as (

    {#- The parts of the failing checks (few), for ADD-003. #}
    {% for dimension in dimensions %}
        select
            failures.submission_id,
            failures.sheet,
            failures.cell as total_cell,
            failures.dimension,
            failures.discrepancy,
            failures.tolerance_absolute,
            parts.cell as part_cell,
            parts.row_number as part_row_number,
            parts.column_number as part_column_number,
            parts.value as part_value,
            parts.is_unusable as part_is_unusable
        from failures
        inner join cells as parts
            on
                failures.submission_id = parts.submission_id
                and failures.sheet = parts.sheet
                and failures.rest_key = parts.rest_key_{{ dimension }}
        where failures.dimension = '{{ dimension }}' and not parts.is_total_{{ dimension }}
        union all
    {% endfor %}
    select
        failures.submission_id,
        failures.sheet,
        failures.cell as total_cell,
        failures.dimension,
        failures.discrepancy,
        failures.tolerance_absolute,
        parts.cell as part_cell,
        parts.row_number as part_row_number,
        parts.column_number as part_column_number,
        parts.value as part_value,
        parts.is_unusable as part_is_unusable
    from failures
    inner join cells as parts
        on
            failures.submission_id = parts.submission_id
            and failures.sheet = parts.sheet
            and failures.row_number = parts.parent_row
            and failures.column_number = parts.column_number
            and failures.dimension = parts.row_dimension
    where failures.rest_key is null

),

suspect_cells as (

    select
        first_total.submission_id,
        first_total.sheet,
        first_total.part_cell as cell,
        first_total.part_row_number as row_number,
        first_total.part_column_number as column_number,
        first_total.part_value as value,
        first_total.part_value + first_total.discrepancy as corrected_value,
        first_total.total_cell || ', ' || second_total.total_cell as total_cells,
        row_number() over (
            partition by first_total.submission_id, first_total.sheet, first_total.part_cell
            order by first_total.total_cell, second_total.total_cell
        ) as pair_number

    from failing_edges as first_total
    inner join failing_edges as second_total
        on
            first_total.submission_id = second_total.submission_id
            and first_total.sheet = second_total.sheet
            and first_total.part_cell = second_total.part_cell
            and first_total.dimension < second_total.dimension
            and abs(first_total.discrepancy - second_total.discrepancy)
            <= first_total.tolerance_absolute
    where not first_total.part_is_unusable

),

blank_totals as (

    select
        submission_id,
        sheet,
        cell,
        row_number,
        column_number,
        dimension,
        detail_sum,
        row_number() over (
            partition by submission_id, sheet, cell
            order by dimension
        ) as dimension_number

    from flagged_checks
    where value is null

),

subtotal_labels as (

    {#- The row label of the few ADD-002 failures, read back from the observations. #}
    select
        labelled.submission_id,
        labelled.sheet,
        labelled.cell,
        case labelled.row_dimension
            {%- for dimension in dimensions %}
                when '{{ dimension }}' then labelled.{{ dimension }}_label
            {%- endfor %}
        end as row_label

    from (
        select * from {{ ref('int_observations_unioned') }}
        {{ unjudged_submissions_only() }}
    ) as labelled
    inner join (
        select distinct
            submission_id,
            sheet,
            cell
        from failures
        where rule_id = 'ADD-002'
    ) as subtotals
        on
            labelled.submission_id = subtotals.submission_id
            and labelled.sheet = subtotals.sheet
            and labelled.cell = subtotals.cell

),

final as (

    select
        failures.submission_id,
        failures.rule_id,
        failures.sheet,
        failures.cell,
        failures.row_number,
        failures.column_number,
        {{ format_number('failures.detail_sum') }} as expected,
        {{ format_number('failures.value') }} as found,
        case when failures.rule_id = 'ADD-002' then subtotal_labels.row_label end as label,
        failures.dimension,
        cast(null as {{ text_type() }}) as detail

    from failures
    left join subtotal_labels
        on
            failures.rule_id = 'ADD-002'
            and failures.submission_id = subtotal_labels.submission_id
            and failures.sheet = subtotal_labels.sheet
            and failures.cell = subtotal_labels.cell

    union all

    select
        submission_id,
        'ADD-003' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('corrected_value') }} as expected,
        {{ format_number('value') }} as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        'totals ' || total_cells as detail

    from suspect_cells
    where pair_number = 1

    union all

    select
        submission_id,
        'ADD-004' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('detail_sum') }} as expected,
        cast(null as {{ text_type() }}) as found,
        cast(null as {{ text_type() }}) as label,
        dimension,
        cast(null as {{ text_type() }}) as detail

    from blank_totals
    where dimension_number = 1

)

select * from final
{{ unjudged_submissions_only() }}
