{#-
    structure:
    * STR-001 a required sheet of the layout is missing (raw.submission_sheets);
    * STR-002 / STR-003 the metadata country / year disagree with the file name
      (`<ISO3>_<source>_<YYYY>[_vN].xlsx`; not checked when the name does not follow it);
    * STR-004 two cells of a sheet stand for the same coordinates (a label written twice: two
      rows for the same country, two columns for the same month); one failure per repeated row
      (or column), naming the repeated label's cell (row label, or column header) and the one
      it repeats; `found` is the first data cell of the repeated line;
    * STR-005 the metadata country is not a configured reporting country (raw.spec_countries,
      from specs/countries/);
    * STR-006 the declared period lies in the future: a reference year after the current one,
      or the current year with a last month after the current month (the current date is
      `current_date`, or the var `migstat_reference_date` when set, as unit tests do);
    * STR-007 the source in the file name disagrees with the workbook's (its metadata and
      template agree, the loader checks that);
    * STR-008 a port (a country-specific code) that belongs to another country than the
      reporting one: one failure per port label and sheet, naming the label's cell;
    * STR-009 a row with data but no row label (a stray number far below the table): one
      failure per row, naming the empty label cell, the first non-blank cell in `found`.
      Such rows are left out of STR-004 (their empty label is no repeated label).
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set reference_date = var('migstat_reference_date', none) %}

{%- set dimensions = observation_dimensions() %}
{%- set metadata = var('metadata_cells') %}
{#- Rows are identified by their place in the table (row_key: the path of their labels), so
    two rows whose labels resolve to one code ("Reino Unido", "Gales") are not a repetition; the
    same label written twice under the same parent is. #}
{%- set coordinate_partition -%}
    observations.submission_id, observations.sheet, coalesce(observations.row_key, ''){% for dimension in dimensions %}, {{ dimension_key(dimension, 'observations') }}{% endfor %}
{%- endset %}

{#- STR-004 counts the cells per 64-bit hash of their coordinates first and ranks only the cells
    of the coordinates that occur more than once (few), exactly as before: a hash collision
    only adds cells to that small set, and the ranking itself uses the coordinates. Each use
    reads the observations itself (no CTE the engine would keep a copy of every cell of). #}
{%- set coordinate_columns = ['observations.sheet', "coalesce(observations.row_key, '')"] %}
{%- for dimension in dimensions %}
    {%- do coordinate_columns.append(dimension_key(dimension, 'observations')) %}
{%- endfor %}

{#- The cells not yet judged with their layout sheet's declaration (read by each step itself). #}
{%- set observations_with_layout -%}
from (
    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}
) as observations
left join submissions
    on observations.submission_id = submissions.submission_id
left join sheets
    on submissions.layout = sheets.layout and observations.layout_sheet = sheets.sheet
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
    {{ unjudged_submissions_only() }}

),

sheets as (

    select * from {{ ref('stg_raw__sheet_positions') }}

),

configured_countries as (

    select * from {{ ref('stg_raw__countries') }}

),

configured_list as (

    select {{ sorted_string_agg('country_code', ', ', distinct=false) }} as country_codes
    from configured_countries

),

ports as (

    select * from {{ ref('ports') }}

),

today as (

    select
        {%- if reference_date %}
            cast('{{ reference_date }}' as date) as reference_date
        {%- else %}
            current_date as reference_date
        {%- endif %}

),

missing_sheets as (

    select
        submission_sheets.submission_id,
        'STR-001' as rule_id,
        submission_sheets.sheet,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        submission_sheets.sheet as expected,
        cast(null as {{ text_type() }}) as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        cast(null as {{ text_type() }}) as detail

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
        cast(null as {{ text_type() }}) as label,
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
        cast(filename_year as {{ text_type() }}) as expected,
        cast(reference_year as {{ text_type() }}) as found,
        cast(null as {{ text_type() }}) as label,
        'year' as dimension,
        file_name as detail

    from submissions
    where filename_year is not null and filename_year <> reference_year

),

unknown_countries as (

    select
        submissions.submission_id,
        'STR-005' as rule_id,
        '{{ metadata.country.sheet }}' as sheet,
        '{{ metadata.country.cell }}' as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        configured_list.country_codes as expected,
        submissions.country_code as found,
        cast(null as {{ text_type() }}) as label,
        'country' as dimension,
        submissions.file_name as detail

    from submissions
    cross join configured_list
    left join configured_countries
        on submissions.country_code = configured_countries.country_code
    where configured_countries.country_code is null

),

future_periods as (

    select
        submissions.submission_id,
        'STR-006' as rule_id,
        '{{ metadata.year.sheet }}' as sheet,
        '{{ metadata.year.cell }}' as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ year_month('today.reference_date') }} as expected,
        cast(submissions.reference_year as {{ text_type() }})
        || '-' || lpad(cast(submissions.last_month as {{ text_type() }}), 2, '0') as found,
        cast(null as {{ text_type() }}) as label,
        'year' as dimension,
        submissions.file_name as detail

    from submissions
    cross join today
    where
        submissions.reference_year > year(today.reference_date)
        or (
            submissions.reference_year = year(today.reference_date)
            and submissions.last_month > month(today.reference_date)
        )

),

file_name_sources as (

    select
        submission_id,
        source,
        file_name,
        nullif(
            {{ regexp_extract('file_name', '^[A-Z]{3}_([a-z_]+?)_[0-9]{4}(_.*)?[.][^.]*$', 1) }}, ''
        ) as filename_source

    from submissions

),

source_mismatches as (

    select
        submission_id,
        'STR-007' as rule_id,
        '{{ metadata.source.sheet }}' as sheet,
        '{{ metadata.source.cell }}' as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        source as expected,
        filename_source as found,
        cast(null as {{ text_type() }}) as label,
        'source' as dimension,
        file_name as detail

    from file_name_sources
    where filename_source <> source

),

foreign_port_cells as (

    select
        observations.submission_id,
        observations.sheet,
        observations.cell,
        observations.row_number,
        observations.column_number,
        observations.port_label,
        observations.port_code,
        observations.layout_sheet,
        ports.reporting_country_code as port_country_code,
        submissions.country_code,
        submissions.layout,
        row_number() over (
            partition by observations.submission_id, observations.sheet, observations.port_label
            order by observations.row_number, observations.column_number
        ) as occurrence

    from observations
    inner join submissions
        on observations.submission_id = submissions.submission_id
    inner join ports
        on observations.port_code = ports.port_code
    where ports.reporting_country_code <> submissions.country_code

),

foreign_ports as (

    select
        foreign_port_cells.submission_id,
        'STR-008' as rule_id,
        foreign_port_cells.sheet,
        case
            when sheets.row_dimension = 'port'
                then sheets.label_column || cast(foreign_port_cells.row_number as {{ text_type() }})
            when sheets.port_header_position > 0
                then {{ column_letter('foreign_port_cells.column_number') }}
                    || split_part(sheets.header_rows, ',', sheets.port_header_position)
            else foreign_port_cells.cell
        end as cell,
        foreign_port_cells.row_number,
        foreign_port_cells.column_number,
        foreign_port_cells.country_code as expected,
        foreign_port_cells.port_label as found,
        foreign_port_cells.port_label as label,
        'port' as dimension,
        foreign_port_cells.port_code
        || ' (' || foreign_port_cells.port_country_code || ')' as detail

    from foreign_port_cells
    left join (
        select
            *,
            {{ csv_position('column_dimensions', "'port'") }} as port_header_position
        from sheets
    ) as sheets
        on
            foreign_port_cells.layout = sheets.layout
            and foreign_port_cells.layout_sheet = sheets.sheet
    where foreign_port_cells.occurrence = 1

),

unlabelled_cells as (

    select
        observations.submission_id,
        observations.sheet,
        observations.cell,
        observations.row_number,
        observations.column_number,
        observations.raw_text,
        sheets.row_dimension as layout_row_dimension,
        sheets.label_column as layout_label_column,
        row_number() over (
            partition by observations.submission_id, observations.sheet, observations.row_number
            order by observations.column_number
        ) as position_in_row

    {{ observations_with_layout }}
    where
        {{ row_label_is_missing() }}
        and observations.value_status <> 'blank'

),

unlabelled_rows as (

    select
        submission_id,
        'STR-009' as rule_id,
        sheet,
        coalesce(layout_label_column || cast(row_number as {{ text_type() }}), cell) as cell,
        row_number,
        column_number,
        cast(null as {{ text_type() }}) as expected,
        cell || ' = ' || coalesce(raw_text, '') as found,
        cast(row_number as {{ text_type() }}) as label,
        layout_row_dimension as dimension,
        cast(null as {{ text_type() }}) as detail

    from unlabelled_cells
    where position_in_row = 1

),

repeated_coordinates as (

    select
        observations.submission_id,
        {{ key_hash(coordinate_columns) }} as coordinate_hash

    {{ observations_with_layout }}
    where
        not coalesce({{ row_label_is_missing() }}, false)
    group by 1, 2
    having count(*) > 1

),

coordinates as (

    select
        observations.submission_id,
        observations.source,
        observations.sheet,
        observations.layout_sheet,
        observations.cell,
        observations.row_number,
        observations.column_number,
        {%- for dimension in dimensions %}
            observations.{{ dimension }}_label,
        {%- endfor %}
        row_number() over (
            partition by {{ coordinate_partition }}
            order by observations.row_number, observations.column_number
        ) as occurrence,
        first_value(observations.cell) over (
            partition by {{ coordinate_partition }}
            order by observations.row_number, observations.column_number
        ) as first_cell,
        first_value(observations.row_number) over (
            partition by {{ coordinate_partition }}
            order by observations.row_number, observations.column_number
        ) as first_row_number

    {{ observations_with_layout }}
    inner join repeated_coordinates
        on
            observations.submission_id = repeated_coordinates.submission_id
            and {{ key_hash(coordinate_columns) }} = repeated_coordinates.coordinate_hash
    where not coalesce({{ row_label_is_missing() }}, false)

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
                then label_column || cast(row_number as {{ text_type() }})
            when not is_repeated_row and header_rows is not null
                then {{ column_letter('column_number') }} || split_part(header_rows, ',', 1)
            else cell
        end as cell,
        row_number,
        column_number,
        case
            when is_repeated_row and label_column is not null
                then label_column || cast(first_row_number as {{ text_type() }})
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
        cast(null as {{ text_type() }}) as detail

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
    union all
    select * from unknown_countries
    union all
    select * from future_periods
    union all
    select * from source_mismatches
    union all
    select * from foreign_ports
    union all
    select * from unlabelled_rows

)

select * from final
{{ unjudged_submissions_only() }}
