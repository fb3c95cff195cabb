{#-
    codes: COD-001 every label resolves to a code of its dimension's code list. One failure per
    label and sheet (at the label's first cell): a country written wrongly in a row fails once,
    not once per month column.
-#}
{{ config(materialized='table') }}

{%- set dimensions = observation_dimensions() %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

unresolved as (

    {% for dimension in dimensions %}
    select
        submission_id,
        sheet,
        cell,
        row_number,
        column_number,
        '{{ dimension }}' as dimension,
        {{ dimension }}_label as label

    from observations
    where {{ dimension }}_label is not null and {{ dimension }}_code is null
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

final as (

    select
        submission_id,
        'COD-001' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        cast(null as varchar) as expected,
        label as found,
        label,
        dimension,
        cast(null as varchar) as detail

    from first_cells
    where occurrence = 1

)

select * from final
