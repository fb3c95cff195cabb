{#-
    structure:
    * STR-001 a required sheet of the layout is missing (raw.submission_sheets);
    * STR-002 / STR-003 the metadata country / year disagree with the file name
      (`<ISO3>_<source>_<YYYY>[_vN].xlsx`; not checked when the name does not follow it);
    * STR-004 two cells of a sheet stand for the same coordinates (a label written twice: two
      rows for the same country, two columns for the same month); one failure per repeated row
      (or column), naming the repeated label's cell (row label, or column header) and the one
      it repeats; `found` is the first data cell of the repeated line.
-#}
{{ config(materialized='table') }}

{%- set dimensions = observation_dimensions() %}
{%- set metadata = var('metadata_cells') %}
{#- Rows are identified by their place in the table (row_key: the path of their labels), so
    two rows whose labels resolve to one code ("Reino Unido", "Gales") are not a repetition; the
    same label written twice under the same parent is. #}
{%- set coordinate_partition -%}
    submission_id, sheet, coalesce(row_key, ''){% for dimension in dimensions %}, {{ dimension_key(dimension) }}{% endfor %}
{%- endset %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}
    where not is_rejected

),

submission_sheets as (

    select * from {{ ref('stg_raw__submission_sheets') }}

),

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

sheets as (

    select * from {{ ref('stg_raw__sheet_positions') }}

),

missing_sheets as (

    select
        submission_sheets.submission_id,
        'STR-001' as rule_id,
        submission_sheets.sheet,
        cast(null as varchar) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        submission_sheets.sheet as expected,
        cast(null as varchar) as found,
        cast(null as varchar) as label,
        cast(null as varchar) as dimension,
        cast(null as varchar) as detail

    from submission_sheets
    inner join submissions
        on submission_sheets.submission_id = submissions.submission_id
    where submission_sheets.is_required and not submission_sheets.is_present

),

metadata_mismatches as (

    select
        submission_id,
        'STR-002' as rule_id,
        '{{ metadata.country.sheet }}' as sheet,
        '{{ metadata.country.cell }}' as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        filename_country as expected,
        country_code as found,
        cast(null as varchar) as label,
        'country' as dimension,
        file_name as detail

    from submissions
    where filename_country is not null and filename_country <> country_code

    union all

    select
        submission_id,
        'STR-003' as rule_id,
        '{{ metadata.year.sheet }}' as sheet,
        '{{ metadata.year.cell }}' as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        cast(filename_year as varchar) as expected,
        cast(reference_year as varchar) as found,
        cast(null as varchar) as label,
        'year' as dimension,
        file_name as detail

    from submissions
    where filename_year is not null and filename_year <> reference_year

),

coordinates as (

    select
        submission_id,
        source,
        sheet,
        layout_sheet,
        cell,
        row_number,
        column_number,
        {%- for dimension in dimensions %}
            {{ dimension }}_label,
        {%- endfor %}
        row_number() over (
            partition by {{ coordinate_partition }}
            order by row_number, column_number
        ) as occurrence,
        first_value(cell) over (
            partition by {{ coordinate_partition }}
            order by row_number, column_number
        ) as first_cell,
        first_value(row_number) over (
            partition by {{ coordinate_partition }}
            order by row_number, column_number
        ) as first_row_number

    from observations

),

repeated_cells as (

    select
        coordinates.*,
        coordinates.row_number <> coordinates.first_row_number as is_repeated_row,
        sheets.row_dimension,
        sheets.column_dimensions,
        sheets.label_column,
        sheets.header_rows

    from coordinates
    left join submissions
        on coordinates.submission_id = submissions.submission_id
    left join sheets
        on submissions.layout = sheets.layout and coordinates.layout_sheet = sheets.sheet
    where coordinates.occurrence > 1

),

duplicates as (

    select
        submission_id,
        'STR-004' as rule_id,
        sheet,
        case
            when is_repeated_row and label_column is not null
                then label_column || cast(row_number as varchar)
            when not is_repeated_row and header_rows is not null
                then {{ column_letter('column_number') }} || split_part(header_rows, ',', 1)
            else cell
        end as cell,
        row_number,
        column_number,
        case
            when is_repeated_row and label_column is not null
                then label_column || cast(first_row_number as varchar)
            else first_cell
        end as expected,
        cell as found,
        case
            {%- for dimension in dimensions %}
                when is_repeated_row and row_dimension = '{{ dimension }}' then {{ dimension }}_label
            {%- endfor %}
            {%- for dimension in dimensions %}
                when not is_repeated_row and split_part(column_dimensions, ',', 1) = '{{ dimension }}'
                    then {{ dimension }}_label
            {%- endfor %}
        end as label,
        case
            when is_repeated_row then row_dimension else split_part(column_dimensions, ',', 1)
        end as dimension,
        cast(null as varchar) as detail

    from (
        select
            *,
            row_number() over (
                partition by
                    submission_id,
                    sheet,
                    case when is_repeated_row then row_number else column_number end
                order by row_number, column_number
            ) as rank_in_line
        from repeated_cells
    ) as ranked
    where rank_in_line = 1

),

final as (

    select * from missing_sheets
    union all
    select * from metadata_mismatches
    union all
    select * from duplicates

)

select * from final
