{#-
    additivity, from data: each total is checked once against the sum of its parts. Two kinds of
    check:

    * along a dimension read from the coordinates (columns, fixed values, stacked blocks): a cell
      whose key along d is `_T` is the total of the cells of the same sheet that differ from it
      only along d. Along the row dimension a row is identified by its place in the table
      (`row_key`, the path of its labels), not by its code: two rows whose labels resolve to one
      code ("Reino Unido", "Gales") stay two rows.
    * along the rows: the loader placed every row of the table in its declared hierarchy
      (`parent_row`): each row adds up into its parent row, column by column (Total =
      Nacionales + Extranjeros; Extranjeros = its regions + Apátridas; a region = the members
      the table lists under it + its "Otros"). ADD-001 when the parent is the grand total,
      ADD-002 when it is an aggregate row.

    Both kinds come from one long table of (cell, check it takes part in, key of that check) and
    one join of the parts' sums to the totals on (submission, sheet, kind, key): the compiled SQL
    does not repeat itself per dimension and the cost grows with cells, not with dimensions
    squared. Along dimension d the key is the cell's identity without d: a 64-bit hash per
    dimension of the cell's identity along it, all of them combined by xor once per cell, and d's
    own hash taken out again by one more xor. Along the rows the key is (row, column): the
    parent's for a part, the cell's own for a total.

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
{%- set identity_hashes = [] %}
{%- set ns = namespace(identity_along='case sheet_checks.dimension') %}
{%- for dimension in dimensions %}
    {%- do identity_hashes.append('identity_' ~ dimension) %}
    {%- set ns.identity_along = ns.identity_along
        ~ " when '" ~ dimension ~ "' then cells.identity_" ~ dimension %}
{%- endfor %}
{%- set identity_along = ns.identity_along ~ ' end' %}
{#- Cost per cell (issue 10): no CTE of every cell is kept (each step that reads the cells
    scans the observations itself), and a sheet's cells enter only the checks along the
    dimensions it breaks down by (`breakdown`: more than one key in the sheet; along any other
    dimension a sheet holds only totals or only parts, so no check). The parts are summed per
    check before they meet their total (one row per check); only the few failing checks go back
    to their parts (ADD-003) and to their labels. #}

with

sheets as (

    select
        submission_id,
        sheet,
        min(breakdown) as breakdown

    from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}
    group by submission_id, sheet

),

dimensions as (

    {%- for dimension in dimensions %}
        select '{{ dimension }}' as dimension
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

sheet_checks as (

    {#- The kinds of check each sheet holds: one per dimension it breaks down by, and one along
        its rows (sheets x dimensions: a few rows per sheet). #}
    select
        sheets.submission_id,
        sheets.sheet,
        dimensions.dimension,
        false as is_along_rows

    from sheets
    inner join dimensions
        on {{ csv_position('sheets.breakdown', 'dimensions.dimension') }} is not null

    union all

    select
        submission_id,
        sheet,
        cast(null as {{ text_type() }}) as dimension,
        true as is_along_rows

    from sheets

),

cells as {{ not_materialized() }} (

    {#- Each cell once: its key along every dimension and a 64-bit hash of its identity along
        it (the key, or along the row dimension its place in the table), salted with the
        dimension's name, and the xor of all of them (`identity`). #}
    select
        hashed.*,
        {{ xor_hashes(identity_hashes) }} as identity

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
                    "'" ~ dimension ~ "'",
                    "case when row_dimension = '" ~ dimension ~ "' then '=' || coalesce(row_key, '') else "
                    ~ dimension_key(dimension) ~ " end"
                ]) }} as identity_{{ dimension }},
            {%- endfor %}
            greatest(coalesce(tolerance_absolute, 0), {{ tolerance }}) as tolerance_absolute,
            coalesce(tolerance_relative, 0) as tolerance_relative
        from {{ ref('int_observations_unioned') }}
        {{ unjudged_submissions_only() }}
    ) as hashed

),

cells_in_checks as {{ not_materialized() }} (

    {#- The long table: one row per cell and kind of check of its sheet, with its part in it
        (a part, the total, or neither) and the check's key. #}
    select
        submission_id,
        sheet,
        cell,
        row_number,
        column_number,
        is_subtotal,
        value,
        is_unusable,
        tolerance_absolute,
        tolerance_relative,
        is_along_rows,
        dimension,
        case
            when is_along_rows then parent_row is not null
            else key_along <> '_T' and key_along <> '-' and not is_row_dimension
        end as is_part,
        case
            when is_along_rows then true
            else key_along = '_T' and not is_row_dimension
        end as is_total,
        case
            when is_along_rows then {{ key_hash(['parent_row', 'column_number']) }}
            else rest_key
        end as part_key,
        case
            when is_along_rows then {{ key_hash(['row_number', 'column_number']) }}
            else rest_key
        end as total_key

    from (
        select
            cells.submission_id,
            cells.sheet,
            cells.cell,
            cells.row_number,
            cells.column_number,
            cells.is_subtotal,
            cells.value,
            cells.is_unusable,
            cells.parent_row,
            cells.tolerance_absolute,
            cells.tolerance_relative,
            sheet_checks.is_along_rows,
            coalesce(sheet_checks.dimension, cells.row_dimension) as dimension,
            coalesce(cells.row_dimension = sheet_checks.dimension, false) as is_row_dimension,
            case sheet_checks.dimension
                {%- for dimension in dimensions %}
                    when '{{ dimension }}' then cells.key_{{ dimension }}
                {%- endfor %}
            end as key_along,
            {{ xor_hashes(['cells.identity', identity_along]) }} as rest_key
        from cells
        inner join sheet_checks
            on
                cells.submission_id = sheet_checks.submission_id
                and cells.sheet = sheet_checks.sheet
    ) as along

),

part_sums as (

    select
        submission_id,
        sheet,
        is_along_rows,
        part_key as check_key,
        dimension,
        sum(value) as detail_sum,
        bool_or(is_unusable) as has_unusable_part

    from cells_in_checks
    where is_part
    group by submission_id, sheet, is_along_rows, part_key, dimension

),

flagged_checks as (

    {#- Every check joined to its total once; only the checks that fail (ADD-001/002) or whose
        total is blank over numbers (ADD-004) are kept. #}
    select
        totals.submission_id,
        totals.sheet,
        totals.cell,
        totals.row_number,
        totals.column_number,
        totals.value,
        totals.tolerance_absolute,
        sums.dimension,
        case
            when totals.is_along_rows and totals.is_subtotal then 'ADD-002' else 'ADD-001'
        end as rule_id,
        sums.detail_sum,
        totals.is_along_rows,
        totals.total_key as check_key

    from cells_in_checks as totals
    inner join part_sums as sums
        on
            totals.submission_id = sums.submission_id
            and totals.sheet = sums.sheet
            and totals.is_along_rows = sums.is_along_rows
            and totals.total_key = sums.check_key
    where
        totals.is_total
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
    inner join cells_in_checks as parts
        on
            failures.submission_id = parts.submission_id
            and failures.sheet = parts.sheet
            and failures.is_along_rows = parts.is_along_rows
            and failures.check_key = parts.part_key
            and failures.dimension = parts.dimension
    where parts.is_part

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
