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

month_sheets as (

    select distinct
        observations.submission_id,
        observations.sheet,
        submissions.first_month,
        submissions.last_month

    from observations
    inner join submissions
        on observations.submission_id = submissions.submission_id
    where ',' || observations.breakdown || ',' like '%,month,%'

),

month_cells as (

    select
        submission_id,
        sheet,
        month,
        sum(case when value_status in ('number', 'zero_marker') then 1 else 0 end) as data_cells,
        sum(case when value <> 0 then 1 else 0 end) as nonzero_cells

    from observations
    where month is not null
    group by 1, 2, 3

),

ranked_month_cells as (

    {#- the first cell of each month (by row, then column), ranked rather than computed from
        the row and column numbers, so any position up to XFD1048576 is fine #}
    select
        submission_id,
        sheet,
        month,
        cell,
        row_number,
        column_number,
        row_number() over (
            partition by submission_id, sheet, month
            order by row_number, column_number
        ) as position_rank

    from observations
    where month is not null

),

first_month_cells as (

    select
        month_cells.*,
        ranked_month_cells.cell as first_cell,
        ranked_month_cells.row_number,
        ranked_month_cells.column_number

    from month_cells
    left join ranked_month_cells
        on
            month_cells.submission_id = ranked_month_cells.submission_id
            and month_cells.sheet = ranked_month_cells.sheet
            and month_cells.month = ranked_month_cells.month
            and ranked_month_cells.position_rank = 1

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
        first_month_cells.first_cell,
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

final as (

    select
        submission_id,
        case when is_in_period then 'CMP-001' else 'CMP-002' end as rule_id,
        sheet,
        first_cell as cell,
        row_number,
        column_number,
        cast(first_month as {{ text_type() }}) || '-' || cast(last_month as {{ text_type() }}) as expected,
        cast(data_cells as {{ text_type() }}) as found,
        name_es as label,
        'month' as dimension,
        cast(null as {{ text_type() }}) as detail

    from expected_months
    where
        (is_in_period and data_cells = 0)
        or (not is_in_period and nonzero_cells > 0)

)

select * from final
{{ unjudged_submissions_only() }}
