{#-
    plausibility (warn): a loaded submission against the country's own published history.
    * PLA-001 year-on-year change of the yearly total (per measure and flow) beyond the
      tolerance (|change| > 50 %) against the published previous year;
    * PLA-002 a month-on-month change far from the country's own history: robust z-score of
      the log change, centred on the same calendar month's median change in the other
      published years (seasonality; the overall median when there is none) and scaled by the
      MAD of all month-on-month changes of the other published years (at least
      `min_history` of them). The history is bounded: only the published years within
      `history_years` of the submission's year (before or after it) count, so each series
      is compared with at most 2 x `history_years` years and the cost grows linearly with
      the years stored (it grew with their square);
    * PLA-003 share of women (F / (F + M)) outside the tolerated range;
    * PLA-004 share of minors (age groups entirely under 18) above the tolerated maximum.
    Totals come from one sheet per measure and flow (macro canonical_cells).
-#}
{#- Windowed (macros/marts_by_key.sql): an incremental build judges again the submissions of
    the touched (country, source) series within `plausibility_window()` years of a touched year
    and keeps the other verdicts. PLA-002 reads the months of their series within that window
    of their own year, and one year more before it (the January of the oldest history year
    compares with the December before it): twice the window and one year before a touched
    year, twice the window after it; PLA-001 the year before theirs; PLA-003/004 their own
    cells. The touched keys are literals (macro touched_keys). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=mart_by_key_strategy(),
    on_schema_change='fail',
    pre_hook="{{ delete_submissions_to_judge(years_before=plausibility_window(), years_after=plausibility_window()) }}",
) }}

{%- set yoy_limit = rule_tolerance('PLA-001', 'relative', 0.5) %}
{%- set z_limit = rule_tolerance('PLA-002', 'robust_z', 3.5) %}
{%- set min_history = rule_tolerance('PLA-002', 'min_history', 12) %}
{%- set history_years = rule_tolerance('PLA-002', 'history_years', 5) %}
{%- set women_min = rule_tolerance('PLA-003', 'min_share', 0.05) %}
{%- set women_max = rule_tolerance('PLA-003', 'max_share', 0.85) %}
{%- set minors_max = rule_tolerance('PLA-004', 'max_share', 0.5) %}

{#- Read by each step itself (macro cells_with_verdict): no copy of every cell. #}
{%- set window = plausibility_window() %}
{#- Each check reads what its verdicts need: the judged submissions' own cells (PLA-003, PLA-004,
    the cells named), the year before them too (PLA-001), their months' history (PLA-002). #}
{%- set checked = "status <> 'rejected' and " %}
{%- set country, year = 'observations.reporting_country_code', 'observations.year' %}
{%- set checked_observations = cells_with_verdict(checked ~ touched_keys(
    country, year, source='observations.source', years_before=window, years_after=window)) %}
{%- set yearly_observations = cells_with_verdict(checked ~ touched_keys(
    country, year, source='observations.source', years_before=window + 1, years_after=window)) %}
{%- set monthly_observations = cells_with_verdict(checked ~ touched_keys(
    country, year, source='observations.source', years_before=2 * window + 1,
    years_after=2 * window)) %}

with

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}

),

age_groups as (

    select * from {{ ref('age_groups') }}

),

published_submissions as (

    select submission_id from verdicts
    where is_published

),

yearly_cells as (

    {{ canonical_cells(yearly_observations) }}

),

yearly_totals as (

    select
        submission_id,
        reporting_country_code,
        source,
        measure,
        coalesce(flow_code, '-') as flow_key,
        year,
        sheet,
        sum(value) as total

    from yearly_cells
    group by 1, 2, 3, 4, 5, 6, 7

),

grand_total_cells as (

    select
        submission_id,
        sheet,
        min(cell) as cell

    from {{ checked_observations }} as checked_observations
    where
        cell_role = 'total'
        {%- for dimension in observation_dimensions() %}
            and (
                {{ dimension_key(dimension) }} in ('_T', '-')
                or ',' || breakdown || ',' not like '%,{{ dimension }},%'
            )
        {%- endfor %}
    group by 1, 2

),

yoy_failures as (

    select
        current_year.submission_id,
        'PLA-001' as rule_id,
        current_year.sheet,
        grand_total_cells.cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number('previous_year.total') }} as expected,
        {{ format_number('current_year.total') }} as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        current_year.measure
        || case when current_year.flow_key <> '-' then ' ' || current_year.flow_key else '' end
        || ' (' || {{ format_number('round(100 * (current_year.total / previous_year.total - 1))') }}
        || ' %)' as detail

    from yearly_totals as current_year
    inner join yearly_totals as previous_year
        on
            current_year.reporting_country_code = previous_year.reporting_country_code
            and current_year.source = previous_year.source
            and current_year.measure = previous_year.measure
            and current_year.flow_key = previous_year.flow_key
            and current_year.year = previous_year.year + 1
    inner join published_submissions
        on previous_year.submission_id = published_submissions.submission_id
    left join grand_total_cells
        on
            current_year.submission_id = grand_total_cells.submission_id
            and current_year.sheet = grand_total_cells.sheet
    where
        previous_year.total > 0
        and abs(current_year.total / previous_year.total - 1) > {{ yoy_limit }}

),

monthly_cells as (

    {{ canonical_cells(monthly_observations, ['month']) }}

),

monthly_totals as (

    select
        submission_id,
        reporting_country_code,
        source,
        measure,
        coalesce(flow_code, '-') as flow_key,
        year,
        month,
        sheet,
        sum(value) as total

    from monthly_cells
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

monthly_change_candidates as (

    {#- The previous month comes from the submission itself when it has that month, else from
        a published submission (January: the previous year's). Never both: another version of
        the same period, published, would give a second previous month (the month reported
        twice). #}
    select
        current_month.*,
        previous_month.total as previous_total,
        ln(current_month.total / previous_month.total) as log_change,
        row_number() over (
            partition by
                current_month.submission_id,
                current_month.sheet,
                current_month.measure,
                current_month.flow_key,
                current_month.year,
                current_month.month
            order by
                case when previous_month.submission_id = current_month.submission_id then 0 else 1 end,
                previous_month.submission_id desc
        ) as preference

    from monthly_totals as current_month
    inner join monthly_totals as previous_month
        on
            current_month.reporting_country_code = previous_month.reporting_country_code
            and current_month.source = previous_month.source
            and current_month.measure = previous_month.measure
            and current_month.flow_key = previous_month.flow_key
            and current_month.year * 12 + current_month.month
            = previous_month.year * 12 + previous_month.month + 1
            and (
                current_month.submission_id = previous_month.submission_id
                or previous_month.submission_id in (select submission_id from published_submissions)
            )
    where current_month.total > 0 and previous_month.total > 0

),

monthly_changes as (

    select
        submission_id,
        reporting_country_code,
        source,
        measure,
        flow_key,
        year,
        month,
        sheet,
        total,
        previous_total,
        log_change

    from monthly_change_candidates
    where preference = 1

),

history as (

    select monthly_changes.*
    from monthly_changes
    inner join published_submissions
        on monthly_changes.submission_id = published_submissions.submission_id

),

submission_series as (

    select distinct
        submission_id,
        reporting_country_code,
        source,
        measure,
        flow_key,
        year
    from monthly_changes

),

history_medians as (

    select
        series.submission_id,
        series.measure,
        series.flow_key,
        {{ median('history.log_change') }} as median_change,
        count(*) as history_count

    from submission_series as series
    inner join history
        on
            series.reporting_country_code = history.reporting_country_code
            and series.source = history.source
            and series.measure = history.measure
            and series.flow_key = history.flow_key
            and series.year <> history.year
            and abs(series.year - history.year) <= {{ history_years }}
    group by 1, 2, 3

),

history_spread as (

    select
        history_medians.submission_id,
        history_medians.measure,
        history_medians.flow_key,
        history_medians.median_change,
        history_medians.history_count,
        {{ median('abs(history.log_change - history_medians.median_change)') }} as mad

    from history_medians
    inner join submission_series as series
        on
            history_medians.submission_id = series.submission_id
            and history_medians.measure = series.measure
            and history_medians.flow_key = series.flow_key
    inner join history
        on
            series.reporting_country_code = history.reporting_country_code
            and series.source = history.source
            and series.measure = history.measure
            and series.flow_key = history.flow_key
            and series.year <> history.year
            and abs(series.year - history.year) <= {{ history_years }}
    group by 1, 2, 3, 4, 5

),

same_month_medians as (

    select
        changes.submission_id,
        changes.measure,
        changes.flow_key,
        changes.month,
        {{ median('history.log_change') }} as seasonal_change

    from monthly_changes as changes
    inner join history
        on
            changes.reporting_country_code = history.reporting_country_code
            and changes.source = history.source
            and changes.measure = history.measure
            and changes.flow_key = history.flow_key
            and changes.month = history.month
            and changes.year <> history.year
            and abs(changes.year - history.year) <= {{ history_years }}
    group by 1, 2, 3, 4

),

unusual_months as (

    select
        changes.submission_id,
        changes.sheet,
        changes.month,
        changes.measure,
        changes.flow_key,
        changes.total,
        changes.previous_total

    from monthly_changes as changes
    inner join history_spread as spread
        on
            changes.submission_id = spread.submission_id
            and changes.measure = spread.measure
            and changes.flow_key = spread.flow_key
    left join same_month_medians as seasonal
        on
            changes.submission_id = seasonal.submission_id
            and changes.measure = seasonal.measure
            and changes.flow_key = seasonal.flow_key
            and changes.month = seasonal.month
    where
        spread.history_count >= {{ min_history }}
        and spread.mad > 0
        and abs(changes.log_change - coalesce(seasonal.seasonal_change, spread.median_change))
        / (1.4826 * spread.mad) > {{ z_limit }}

),

month_cells as (

    {#- The cell a PLA-002 failure names: the month's total in its sheet (every other dimension
        at its total), else the month's first detail cell. Only for the months flagged. #}
    select
        cells.submission_id,
        cells.sheet,
        cells.month,
        cells.cell,
        row_number() over (
            partition by cells.submission_id, cells.sheet, cells.month
            order by
                case when cells.cell_role = 'total' then 0 else 1 end,
                cells.row_number,
                cells.column_number
        ) as preference

    from {{ checked_observations }} as cells
    inner join (
        select distinct
            submission_id,
            sheet,
            month
        from unusual_months
    ) as flagged
        on
            cells.submission_id = flagged.submission_id
            and cells.sheet = flagged.sheet
            and cells.month = flagged.month
    where
        cells.cell_role = 'detail'
        or (
            cells.cell_role = 'total'
            {%- for dimension in observation_dimensions() if dimension != 'month' %}
                and (
                    {{ dimension_key(dimension, 'cells') }} in ('_T', '-')
                    or ',' || cells.breakdown || ',' not like '%,{{ dimension }},%'
                )
            {%- endfor %}
        )

),

month_failures as (

    select
        unusual_months.submission_id,
        'PLA-002' as rule_id,
        unusual_months.sheet,
        month_cells.cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number('unusual_months.previous_total') }} as expected,
        {{ format_number('unusual_months.total') }} as found,
        lpad(cast(unusual_months.month as {{ text_type() }}), 2, '0') as label,
        'month' as dimension,
        unusual_months.measure
        || case
            when unusual_months.flow_key <> '-' then ' ' || unusual_months.flow_key else ''
        end as detail

    from unusual_months
    left join month_cells
        on
            unusual_months.submission_id = month_cells.submission_id
            and unusual_months.sheet = month_cells.sheet
            and unusual_months.month = month_cells.month
            and month_cells.preference = 1

),

sex_cells as (

    {{ canonical_cells(checked_observations, ['sex']) }}

),

sex_shares as (

    select
        submission_id,
        sheet,
        sum(case when sex_code = 'F' then value else 0 end)
        / nullif(sum(case when sex_code in ('F', 'M') then value else 0 end), 0) as women_share

    from sex_cells
    group by 1, 2

),

sex_failures as (

    select
        submission_id,
        'PLA-003' as rule_id,
        sheet,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number(women_min) }} || '-' || {{ format_number(women_max) }} as expected,
        {{ format_number('round(women_share, 3)') }} as found,
        cast(null as {{ text_type() }}) as label,
        'sex' as dimension,
        cast(null as {{ text_type() }}) as detail

    from sex_shares
    where women_share < {{ women_min }} or women_share > {{ women_max }}

),

age_cells as (

    {{ canonical_cells(checked_observations, ['age_group']) }}

),

minors_shares as (

    select
        age_cells.submission_id,
        age_cells.sheet,
        sum(case when age_groups.is_minor then age_cells.value else 0 end)
        / nullif(sum(age_cells.value), 0) as minors_share

    from age_cells
    left join age_groups
        on age_cells.age_group_code = age_groups.code
    group by 1, 2

),

minors_failures as (

    select
        submission_id,
        'PLA-004' as rule_id,
        sheet,
        cast(null as {{ text_type() }}) as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        {{ format_number(minors_max) }} as expected,
        {{ format_number('round(minors_share, 3)') }} as found,
        cast(null as {{ text_type() }}) as label,
        'age_group' as dimension,
        cast(null as {{ text_type() }}) as detail

    from minors_shares
    where minors_share > {{ minors_max }}

),

final as (

    select * from yoy_failures
    union all
    select * from month_failures
    union all
    select * from sex_failures
    union all
    select * from minors_failures

)

select * from final
where {{ submissions_to_judge(years_before=window, years_after=window) }}
