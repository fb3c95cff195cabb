{#-
    completeness: in every sheet that breaks down by month,
    * CMP-001 every month from the submission's first_month to last_month has data (some cell
      of the month holds a number or a zero marker);
    * CMP-002 (warn) no month outside that period holds a non-zero number.
-#}
{#- Incremental: only the submissions not judged yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}
    where not is_rejected

),

observations as (

    select * from {{ ref('int_observations_unioned') }}
    {{ unjudged_submissions_only() }}

),

months as (

    select
        code as month_code,
        {{ try_cast('code', 'integer') }} as month,
        name_es

    from {{ ref('code_lists') }}
    where codelist = 'months' and code not in ('_T', '_U')

),

sheet_month_cells as (

    {#- One pass over the cells: per sheet and month, the cells holding data, the non-zero ones
        and the first cell (by row, then column: the smallest row x 32,768 + column, Excel's
        last column being 16,384), rather than ranking every cell with a window. #}
    select
        submission_id,
        sheet,
        month,
        min(breakdown) as breakdown,
        sum(case when value_status in ('number', 'zero_marker') then 1 else 0 end) as data_cells,
        sum(case when value <> 0 then 1 else 0 end) as nonzero_cells,
        min(cast(row_number as bigint) * 32768 + column_number) as first_position

    from observations
    group by submission_id, sheet, month

),

month_sheets as (

    select distinct
        sheet_month_cells.submission_id,
        sheet_month_cells.sheet,
        submissions.first_month,
        submissions.last_month

    from sheet_month_cells
    inner join submissions
        on sheet_month_cells.submission_id = submissions.submission_id
    where ',' || sheet_month_cells.breakdown || ',' like '%,month,%'

),

first_month_cells as (

    select
        submission_id,
        sheet,
        month,
        data_cells,
        nonzero_cells,
        cast({{ int_div('first_position', 32768) }} as integer) as row_number,
        cast(first_position % 32768 as integer) as column_number

    from sheet_month_cells
    where month is not null

),

expected_months as (

    select
        month_sheets.submission_id,
        month_sheets.sheet,
        month_sheets.first_month,
        month_sheets.last_month,
        months.month,
        months.name_es,
        months.month between month_sheets.first_month and month_sheets.last_month as is_in_period,
        coalesce(first_month_cells.data_cells, 0) as data_cells,
        coalesce(first_month_cells.nonzero_cells, 0) as nonzero_cells,
        first_month_cells.row_number,
        first_month_cells.column_number

    from month_sheets
    cross join months
    left join first_month_cells
        on
            month_sheets.submission_id = first_month_cells.submission_id
            and month_sheets.sheet = first_month_cells.sheet
            and months.month = first_month_cells.month

),

failing_months as (

    select *
    from expected_months
    where
        (is_in_period and data_cells = 0)
        or (not is_in_period and nonzero_cells > 0)

),

failing_cells as (

    {#- The first cell's name, read back for the failing months only. #}
    select
        positioned.submission_id,
        positioned.sheet,
        positioned.row_number,
        positioned.column_number,
        min(positioned.cell) as cell

    from (
        select * from {{ ref('int_observations_unioned') }}
        {{ unjudged_submissions_only() }}
    ) as positioned
    inner join (
        select distinct
            submission_id,
            sheet,
            row_number,
            column_number
        from failing_months
    ) as failing
        on
            positioned.submission_id = failing.submission_id
            and positioned.sheet = failing.sheet
            and positioned.row_number = failing.row_number
            and positioned.column_number = failing.column_number
    group by 1, 2, 3, 4

),

final as (

    select
        failing_months.submission_id,
        case when failing_months.is_in_period then 'CMP-001' else 'CMP-002' end as rule_id,
        failing_months.sheet,
        failing_cells.cell,
        failing_months.row_number,
        failing_months.column_number,
        cast(failing_months.first_month as {{ text_type() }})
        || '-' || cast(failing_months.last_month as {{ text_type() }}) as expected,
        cast(failing_months.data_cells as {{ text_type() }}) as found,
        failing_months.name_es as label,
        'month' as dimension,
        cast(null as {{ text_type() }}) as detail

    from failing_months
    left join failing_cells
        on
            failing_months.submission_id = failing_cells.submission_id
            and failing_months.sheet = failing_cells.sheet
            and failing_months.row_number = failing_cells.row_number
            and failing_months.column_number = failing_cells.column_number

)

select * from final
{{ unjudged_submissions_only() }}
