{#-
    The detail cells of one sheet per (submission, measure, flow): among the sheets whose
    breakdown covers every dimension in `required`, the one with the fewest dimensions (ties:
    first sheet name). Every sheet of a submission is a cross-classification of the same flow,
    so summing across sheets would count it twice; cross-table rules make the choice immaterial
    for accepted submissions. Returns a select over `relation` (int_observations_unioned or
    fct_observations: anything with submission_id, measure, flow_code, sheet, breakdown and
    cell_role or only detail cells).
-#}
{% macro canonical_cells(relation, required=[], detail_only=true) %}
select cells.*
from {{ relation }} as cells
inner join (
    select
        submission_id,
        measure,
        flow_key,
        sheet,
        row_number() over (
            partition by submission_id, measure, flow_key
            order by length(breakdown) - length(replace(breakdown, ',', '')), sheet
        ) as preference
    from (
        select distinct
            submission_id,
            measure,
            coalesce(flow_code, '-') as flow_key,
            sheet,
            breakdown
        from {{ relation }}
        where
            true
            {%- for dimension in required %}
            and ',' || breakdown || ',' like '%,{{ dimension }},%'
            {%- endfor %}
    ) as candidate_sheets
) as chosen
    on
        cells.submission_id = chosen.submission_id
        and cells.measure = chosen.measure
        and coalesce(cells.flow_code, '-') = chosen.flow_key
        and cells.sheet = chosen.sheet
        and chosen.preference = 1
{%- if detail_only %}
where cells.cell_role = 'detail'
{%- endif %}
{% endmacro %}

{#-
    canonical_cells for several breakdowns in one scan of `relation`: `breakdowns` maps a name to
    the dimensions it requires ({'nationality_sex': ['nationality', 'sex'], ...}). Each cell
    comes once per breakdown whose canonical sheet (chosen as in canonical_cells) holds it, with
    that breakdown's name in `chosen_breakdown`; the sheets are listed once for all of them.
-#}
{% macro canonical_cells_by_breakdown(relation, breakdowns, detail_only=true) %}
select
    cells.*,
    chosen.chosen_breakdown
from {{ relation }} as cells
inner join (
    select
        submission_id,
        measure,
        flow_key,
        sheet,
        chosen_breakdown,
        row_number() over (
            partition by chosen_breakdown, submission_id, measure, flow_key
            order by length(breakdown) - length(replace(breakdown, ',', '')), sheet
        ) as preference
    from (
        select distinct
            submission_id,
            measure,
            coalesce(flow_code, '-') as flow_key,
            sheet,
            breakdown
        from {{ relation }}
    ) as candidate_sheets
    inner join (
        {%- for name in breakdowns | sort %}
        {%- if not loop.first %}
        union all
        {%- endif %}
        select '{{ name }}' as chosen_breakdown
        {%- endfor %}
    ) as names
        on
            false
            {%- for name, required in breakdowns | dictsort %}
            or (
                names.chosen_breakdown = '{{ name }}'
                {%- for dimension in required %}
                and ',' || candidate_sheets.breakdown || ',' like '%,{{ dimension }},%'
                {%- endfor %}
            )
            {%- endfor %}
) as chosen
    on
        cells.submission_id = chosen.submission_id
        and cells.measure = chosen.measure
        and coalesce(cells.flow_code, '-') = chosen.flow_key
        and cells.sheet = chosen.sheet
        and chosen.preference = 1
{%- if detail_only %}
where cells.cell_role = 'detail'
{%- endif %}
{% endmacro %}
