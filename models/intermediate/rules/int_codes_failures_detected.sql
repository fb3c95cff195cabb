{#-
    codes: COD-001 every label resolves to a code of its dimension's code list. One failure per
    label and sheet, naming the cell where the label is written: the row label cell (`A31`) or
    the column header cell (`E5`), from the layout (raw.spec_sheet_positions); the first data
    cell of the label when the layout does not say.
-#}
{{ config(materialized='table') }}

{%- set dimensions = observation_dimensions() %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

sheet_positions as (

    select * from {{ ref('stg_raw__sheet_positions') }}

),

unresolved as (

    {% for dimension in dimensions %}
        select
            submission_id,
            sheet,
            cell,
            row_number,
            column_number,
            layout_sheet,
            '{{ dimension }}' as dimension,
            {{ dimension }}_label as label

        from observations
        where
            {{ dimension }}_label is not null
            and {{ dimension }}_code is null
            {#- an aggregate row the layout declares is known by its place, not by a code #}
            and not (
                cell_role = 'subtotal' and row_dimension is not distinct from '{{ dimension }}'
            )
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

first_cells as (

    select
        *,
        row_number() over (
            partition by submission_id, sheet, dimension, label
            order by row_number, column_number
        ) as occurrence

    from unresolved

),

label_cells as (

    select
        first_cells.*,
        list_position(
            string_split(sheet_positions.column_dimensions, ','), first_cells.dimension
        ) as header_position,
        case
            when first_cells.dimension = sheet_positions.row_dimension
                then sheet_positions.label_column || cast(first_cells.row_number as varchar)
        end as row_label_cell,
        sheet_positions.header_rows

    from first_cells
    left join submissions
        on first_cells.submission_id = submissions.submission_id
    left join sheet_positions
        on
            submissions.layout = sheet_positions.layout
            and first_cells.layout_sheet = sheet_positions.sheet
    where first_cells.occurrence = 1

),

final as (

    select
        submission_id,
        'COD-001' as rule_id,
        sheet,
        coalesce(
            row_label_cell,
            case
                when header_position > 0
                    then {{ column_letter('column_number') }}
                        || split_part(header_rows, ',', header_position)
            end,
            cell
        ) as cell,
        row_number,
        column_number,
        cast(null as varchar) as expected,
        label as found,
        label,
        dimension,
        'first data cell ' || cell as detail

    from label_cells

)

select * from final
