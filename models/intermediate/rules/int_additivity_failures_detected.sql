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

with

observations as (

    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}

),

cells as (

    select
        submission_id,
        sheet,
        cell,
        row_number,
        column_number,
        cell_role,
        value,
        value_status in ('missing_marker', 'text') as is_unusable,
        row_dimension,
        parent_row,
        greatest(coalesce(tolerance_absolute, 0), {{ tolerance }}) as tolerance_absolute,
        coalesce(tolerance_relative, 0) as tolerance_relative,
        {%- for dimension in dimensions %}
            {{ dimension_key(dimension) }} as key_{{ dimension }},
            case
                when row_dimension = '{{ dimension }}' then '=' || coalesce(row_key, '')
                else {{ dimension_key(dimension) }}
            end as identity_{{ dimension }},
        {%- endfor %}
        case row_dimension
            {%- for dimension in dimensions %}
                when '{{ dimension }}' then {{ dimension }}_label
            {%- endfor %}
        end as row_label

    from observations

),

cells_along_dimensions as (

    {#- One row per (cell, dimension it has a key along): the key, and a hash of the cell's
        identity along every other dimension (a 64-bit number, not a long string per row: the
        long table and its self-join take about a third less CPU and memory). Plain unions, no
        list types: the SQL runs on any engine. #}
    {% for dimension in dimensions %}
        {%- set rest = [] %}
        {%- for other in dimensions if other != dimension %}
            {%- do rest.append('cells.identity_' ~ other) %}
        {%- endfor %}
        select
            cells.submission_id,
            cells.sheet,
            cells.cell,
            cells.value,
            cells.is_unusable,
            '{{ dimension }}' as dimension,
            cells.key_{{ dimension }} as own_key,
            {{ key_hash(rest) }} as rest_key
        from cells
        where
            cells.row_dimension is distinct from '{{ dimension }}'
            and cells.key_{{ dimension }} <> '-'
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

coordinate_edges as (

    select
        totals.submission_id,
        totals.sheet,
        totals.cell as total_cell,
        parts.cell as part_cell,
        totals.dimension,
        'ADD-001' as rule_id,
        parts.value as part_value,
        parts.is_unusable as part_is_unusable

    from cells_along_dimensions as totals
    inner join cells_along_dimensions as parts
        on
            totals.submission_id = parts.submission_id
            and totals.sheet = parts.sheet
            and totals.dimension = parts.dimension
            and totals.rest_key = parts.rest_key
    where totals.own_key = '_T' and parts.own_key <> '_T'

),

row_edges as (

    select
        totals.submission_id,
        totals.sheet,
        totals.cell as total_cell,
        parts.cell as part_cell,
        parts.row_dimension as dimension,
        case when totals.cell_role = 'subtotal' then 'ADD-002' else 'ADD-001' end as rule_id,
        parts.value as part_value,
        parts.is_unusable as part_is_unusable

    from cells as parts
    inner join cells as totals
        on
            parts.submission_id = totals.submission_id
            and parts.sheet = totals.sheet
            and parts.parent_row = totals.row_number
            and parts.column_number = totals.column_number

),

edges as (

    select * from coordinate_edges
    union all
    select * from row_edges

),

checks as (

    select
        submission_id,
        sheet,
        total_cell,
        dimension,
        rule_id,
        sum(part_value) as detail_sum,
        bool_or(part_is_unusable) as has_unusable_part

    from edges
    group by submission_id, sheet, total_cell, dimension, rule_id

),

failures as (

    select
        totals.submission_id,
        totals.sheet,
        totals.cell,
        totals.row_number,
        totals.column_number,
        totals.value,
        totals.row_label,
        checks.dimension,
        checks.rule_id,
        checks.detail_sum,
        totals.value - checks.detail_sum as discrepancy,
        totals.tolerance_absolute

    from checks
    inner join cells as totals
        on
            checks.submission_id = totals.submission_id
            and checks.sheet = totals.sheet
            and checks.total_cell = totals.cell
    where
        totals.value is not null
        and not totals.is_unusable
        and not checks.has_unusable_part
        and abs(totals.value - checks.detail_sum) > greatest(
            totals.tolerance_absolute, totals.tolerance_relative * abs(totals.value)
        )

),

failing_edges as (

    select
        edges.submission_id,
        edges.sheet,
        edges.part_cell,
        failures.cell as total_cell,
        failures.dimension,
        failures.discrepancy,
        failures.tolerance_absolute

    from edges
    inner join failures
        on
            edges.submission_id = failures.submission_id
            and edges.sheet = failures.sheet
            and edges.total_cell = failures.cell
            and edges.dimension = failures.dimension

),

suspect_cells as (

    select
        suspects.submission_id,
        suspects.sheet,
        suspects.cell,
        suspects.row_number,
        suspects.column_number,
        suspects.value,
        suspects.value + first_total.discrepancy as corrected_value,
        first_total.total_cell || ', ' || second_total.total_cell as total_cells,
        row_number() over (
            partition by suspects.submission_id, suspects.sheet, suspects.cell
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
    inner join cells as suspects
        on
            first_total.submission_id = suspects.submission_id
            and first_total.sheet = suspects.sheet
            and first_total.part_cell = suspects.cell
    where not suspects.is_unusable

),

blank_totals as (

    select
        totals.submission_id,
        totals.sheet,
        totals.cell,
        totals.row_number,
        totals.column_number,
        checks.dimension,
        checks.detail_sum,
        row_number() over (
            partition by totals.submission_id, totals.sheet, totals.cell
            order by checks.dimension
        ) as dimension_number

    from checks
    inner join cells as totals
        on
            checks.submission_id = totals.submission_id
            and checks.sheet = totals.sheet
            and checks.total_cell = totals.cell
    where
        totals.value is null
        and not totals.is_unusable
        and not checks.has_unusable_part
        and abs(checks.detail_sum) > totals.tolerance_absolute

),

final as (

    select
        submission_id,
        rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('detail_sum') }} as expected,
        {{ format_number('value') }} as found,
        case when rule_id = 'ADD-002' then row_label end as label,
        dimension,
        cast(null as {{ text_type() }}) as detail

    from failures

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
