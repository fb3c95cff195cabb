{#-
    cross_table: XTB-001 the sheets of each `cross_table` group of a source spec
    (raw.spec_cross_tables) agree on the totals of their shared dimensions. Each sheet's detail
    cells are summed by the group's dimensions; every sheet of the group is compared with the
    group's reference sheet (the first in alphabetical order), coordinate by coordinate. Which
    side is wrong cannot be told, so each disagreement yields a failure on both sheets, naming
    that sheet's reported total cell for the coordinate (when it has one).
    Sheets missing from a submission are left to STR-001.
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set dimensions = observation_dimensions() %}
{%- set tolerance = rule_tolerance('XTB-001', 'absolute', 0.5) %}
{%- set dimension_sets = cross_table_dimension_sets() %}

{#- Cost per cell (issue 10): the observations are read by each step itself (no CTE of every
    cell that the engine would keep a copy of), each sheet's breakdown is looked at once per
    sheet rather than once per cell, and the cells are summed by their keys before the
    coordinate text is written (once per coordinate, not once per cell); a second, small
    aggregation by that text keeps the comparison exactly as before. #}

with

sheets_of_submissions as (

    select
        submission_id,
        source,
        sheet,
        min(breakdown) as breakdown

    from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}
    group by submission_id, source, sheet

),

cross_tables as (

    select * from {{ ref('stg_raw__cross_tables') }}

),

group_sheets as (

    select
        sheets.submission_id,
        cross_tables.group_id,
        coalesce(cross_tables.dimensions, '') as dimensions,
        sheets.sheet,
        {%- for dimension in dimensions %}
            ',' || sheets.breakdown || ',' like '%,{{ dimension }},%' as breaks_down_by_{{ dimension }},
        {%- endfor %}
        min(sheets.sheet) over (
            partition by sheets.submission_id, cross_tables.group_id
        ) as reference_sheet

    from sheets_of_submissions as sheets
    inner join cross_tables
        on sheets.source = cross_tables.source and sheets.sheet = cross_tables.sheet

),

{% for dimension_set in dimension_sets %}
    {%- set group_dimensions = dimension_set.split(',') if dimension_set else [] %}
    {%- set set_index = loop.index %}
    {%- set coordinate -%}
        {%- if group_dimensions -%}
            concat_ws(' / '{% for dimension in group_dimensions %}, key_{{ dimension }}{% endfor %})
        {%- else -%}
            'Total'
        {%- endif -%}
    {%- endset %}
    sums_by_keys_{{ set_index }} as (

        select
            group_sheets.submission_id,
            group_sheets.group_id,
            group_sheets.sheet,
            group_sheets.reference_sheet,
            {%- for dimension in group_dimensions %}
                {{ dimension_key(dimension, 'observations') }} as key_{{ dimension }},
            {%- endfor %}
            sum(observations.value) as detail_sum,
            sum(case when observations.value_status in ('missing_marker', 'text') then 1 else 0 end)
                as unusable_count

        from (
            select * from {{ ref('int_observations_unioned') }}
            {{ unjudged_submissions_only() }}
        ) as observations
        inner join group_sheets
            on
                observations.submission_id = group_sheets.submission_id
                and observations.sheet = group_sheets.sheet
                and group_sheets.dimensions = '{{ dimension_set }}'
        where observations.cell_role = 'detail'
        group by {% for position in range(4 + group_dimensions | length) %}{{ position + 1 }}{{ ', ' if not loop.last }}{% endfor %}

    ),

    sums_{{ set_index }} as (

        select
            submission_id,
            group_id,
            sheet,
            reference_sheet,
            {{ coordinate }} as coordinate,
            sum(detail_sum) as detail_sum,
            sum(unusable_count) as unusable_count

        from sums_by_keys_{{ set_index }}
        group by 1, 2, 3, 4, 5

    ),

    total_cells_by_keys_{{ set_index }} as (

        select
            observations.submission_id,
            observations.sheet,
            {%- for dimension in group_dimensions %}
                {{ dimension_key(dimension, 'observations') }} as key_{{ dimension }},
            {%- endfor %}
            min(observations.cell) as cell,
            min(observations.row_number) as row_number,
            min(observations.column_number) as column_number

        from (
            select * from {{ ref('int_observations_unioned') }}
            {{ unjudged_submissions_only() }}
        ) as observations
        inner join group_sheets
            on
                observations.submission_id = group_sheets.submission_id
                and observations.sheet = group_sheets.sheet
                and group_sheets.dimensions = '{{ dimension_set }}'
        where
            true
            {%- for dimension in dimensions if dimension not in group_dimensions %}
                and (
                    {{ dimension_key(dimension, 'observations') }} in ('_T', '-')
                    or not group_sheets.breaks_down_by_{{ dimension }}
                )
            {%- endfor %}
            {%- for dimension in group_dimensions %}
                and {{ dimension_key(dimension, 'observations') }} <> '_T'
            {%- endfor %}
        group by {% for position in range(2 + group_dimensions | length) %}{{ position + 1 }}{{ ', ' if not loop.last }}{% endfor %}

    ),

    total_cells_{{ set_index }} as (

        select
            submission_id,
            sheet,
            {{ coordinate }} as coordinate,
            min(cell) as cell,
            min(row_number) as row_number,
            min(column_number) as column_number

        from total_cells_by_keys_{{ set_index }}
        group by 1, 2, 3

    ),

    comparisons_{{ set_index }} as (

        select
            others.submission_id,
            others.group_id,
            others.reference_sheet,
            others.sheet,
            others.coordinate,
            reference.detail_sum as reference_sum,
            others.detail_sum as other_sum,
            '{{ dimension_set or "total" }}' as dimension

        from (
            select * from sums_{{ set_index }}
            where sheet <> reference_sheet
        ) as others
        inner join (
            select * from sums_{{ set_index }}
            where sheet = reference_sheet
        ) as reference
            on
                others.submission_id = reference.submission_id
                and others.group_id = reference.group_id
                and others.coordinate = reference.coordinate
        where
            others.unusable_count = 0
            and reference.unusable_count = 0
            and abs(reference.detail_sum - others.detail_sum) > {{ tolerance }}

    ),

    failures_{{ set_index }} as (

        select
            comparisons.submission_id,
            comparisons.group_id,
            comparisons.reference_sheet as compared_sheet,
            comparisons.sheet,
            comparisons.coordinate,
            comparisons.reference_sum as expected_sum,
            comparisons.other_sum as found_sum,
            comparisons.dimension,
            total_cells.cell,
            total_cells.row_number,
            total_cells.column_number

        from comparisons_{{ set_index }} as comparisons
        left join total_cells_{{ set_index }} as total_cells
            on
                comparisons.submission_id = total_cells.submission_id
                and comparisons.sheet = total_cells.sheet
                and comparisons.coordinate = total_cells.coordinate

        union all

        {#- the reference sheet's side of the same disagreement #}
        select distinct
            comparisons.submission_id,
            comparisons.group_id,
            comparisons.sheet as compared_sheet,
            comparisons.reference_sheet as sheet,
            comparisons.coordinate,
            comparisons.other_sum as expected_sum,
            comparisons.reference_sum as found_sum,
            comparisons.dimension,
            total_cells.cell,
            total_cells.row_number,
            total_cells.column_number

        from comparisons_{{ set_index }} as comparisons
        left join total_cells_{{ set_index }} as total_cells
            on
                comparisons.submission_id = total_cells.submission_id
                and comparisons.reference_sheet = total_cells.sheet
                and comparisons.coordinate = total_cells.coordinate

    ),

{% endfor %}
comparisons as (

    {% for dimension_set in dimension_sets %}
        select * from failures_{{ loop.index }}
        union all
    {% endfor %}
    select
        cast(null as integer) as submission_id,
        cast(null as {{ text_type() }}) as group_id,
        cast(null as {{ text_type() }}) as compared_sheet,
        cast(null as {{ text_type() }}) as sheet,
        cast(null as {{ text_type() }}) as coordinate,
        cast(null as double) as expected_sum,
        cast(null as double) as found_sum,
        cast(null as {{ text_type() }}) as dimension,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number
    where false

),

final as (

    select
        submission_id,
        'XTB-001' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('expected_sum') }} as expected,
        {{ format_number('found_sum') }} as found,
        coordinate as label,
        dimension,
        compared_sheet as detail

    from comparisons

)

select * from final
{{ unjudged_submissions_only() }}
