{#-
    codes: COD-001 every label resolves to a code of its dimension's code list (the three closest
    codes in detail); COD-002 (warn) a label resolved by approximate (fuzzy) match, with the code
    in expected and the score in detail. One failure per label and sheet, naming the cell where
    the label is written: the row label cell (`A31`) or the column header cell (`E5`), from the
    layout (raw.spec_sheet_positions); the first data cell of the label when the layout does not
    say. How each label resolved comes from raw.label_resolutions (migstat/codes.py).
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set dimensions = observation_dimensions() %}

with

observations as {{ not_materialized() }} (

    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

sheet_positions as (

    select * from {{ ref('stg_raw__sheet_positions') }}

),

source_dimensions as (

    select * from {{ ref('stg_raw__dimensions') }}

),

label_resolutions as (

    select * from {{ ref('stg_raw__label_resolutions') }}

),

fuzzy_labels as (

    -- The labels resolved by approximate match somewhere (few): with the unresolved ones, the
    -- only labels this rule can report.
    select distinct label from label_resolutions
    where method = 'fuzzy'

),

candidate_labels as (

    -- (submission, sheet, dimension, label) where some cell's label did not resolve or may
    -- have resolved by approximate match: the filter runs in the scan, so the ranking below
    -- sees these labels only instead of every label of every cell.
    {% for dimension in dimensions %}
        select distinct
            submission_id,
            sheet,
            '{{ dimension }}' as dimension,
            {{ dimension }}_label as label

        from observations
        where
            {{ labelled_cell(dimension) }}
            and (
                {{ dimension }}_code is null
                or {{ dimension }}_label in (select fuzzy_labels.label from fuzzy_labels)
            )
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

labelled as (

    -- Every cell of those labels (the first one names where the label is written).
    {% for dimension in dimensions %}
        select
            observations.submission_id,
            observations.source,
            observations.sheet,
            observations.cell,
            observations.row_number,
            observations.column_number,
            observations.layout_sheet,
            '{{ dimension }}' as dimension,
            observations.{{ dimension }}_label as label,
            observations.{{ dimension }}_code as code

        from observations
        inner join candidate_labels
            on
                observations.submission_id = candidate_labels.submission_id
                and observations.sheet = candidate_labels.sheet
                and observations.{{ dimension }}_label = candidate_labels.label
                and candidate_labels.dimension = '{{ dimension }}'
        where {{ labelled_cell(dimension, 'observations') }}
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

    from labelled

),

resolved as (

    select
        first_cells.*,
        submissions.layout,
        members.method as member_method,
        members.suggestions as member_suggestions,
        fuzzy.score as fuzzy_score

    from first_cells
    left join submissions
        on first_cells.submission_id = submissions.submission_id
    left join source_dimensions
        on
            first_cells.source = source_dimensions.source
            and first_cells.dimension = source_dimensions.dimension
    left join label_resolutions as members
        on
            coalesce(submissions.country_code, '') = members.reporting_country_code
            and coalesce(source_dimensions.codelist, first_cells.dimension) = members.codelist
            and first_cells.label = members.label
    left join label_resolutions as fuzzy
        on
            coalesce(submissions.country_code, '') = fuzzy.reporting_country_code
            and fuzzy.codelist in (
                coalesce(source_dimensions.codelist, first_cells.dimension), 'regions'
            )
            and first_cells.label = fuzzy.label
            and first_cells.code = fuzzy.code
            and fuzzy.method = 'fuzzy'
    where
        first_cells.occurrence = 1
        and (first_cells.code is null or fuzzy.code is not null)

),

label_cells as (

    select
        resolved.*,
        {{ csv_position('sheet_positions.column_dimensions', 'resolved.dimension') }}
            as header_position,
        case
            when resolved.dimension = sheet_positions.row_dimension
                then sheet_positions.label_column || cast(resolved.row_number as {{ text_type() }})
        end as row_label_cell,
        sheet_positions.header_rows

    from resolved
    left join sheet_positions
        on
            resolved.layout = sheet_positions.layout
            and resolved.layout_sheet = sheet_positions.sheet

),

final as (

    select
        submission_id,
        case when code is null then 'COD-001' else 'COD-002' end as rule_id,
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
        code as expected,
        label as found,
        label,
        dimension,
        case
            when code is null then member_suggestions
            else cast(cast(round(fuzzy_score) as integer) as {{ text_type() }})
        end as detail

    from label_cells

)

select * from final
{{ unjudged_submissions_only() }}
