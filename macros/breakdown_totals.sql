{#-
    One row per (reporting country, year, breakdown, coordinates): for each breakdown (a list of
    dimensions), the canonical sheet's cells (macro canonical_cells) summed by those dimensions,
    every other dimension of `dimensions` set to '_T'. The breakdown is named by its dimensions
    joined with '_' ('age_group_sex'). Columns: reporting_country_code, year, breakdown,
    <dimension>_code for each of `dimensions`, `measure_name` (sum of value), obs_flag.
-#}
{% macro breakdown_totals(relation, dimensions, breakdowns, measure_name) %}
select
    reporting_country_code,
    year,
    breakdown,
    {%- for dimension in dimensions %}
    {{ dimension }}_code,
    {%- endfor %}
    sum(value) as {{ measure_name }},
    {{ combine_flags('obs_flag') }} as obs_flag
from (
    {%- for breakdown in breakdowns %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        reporting_country_code,
        year,
        '{{ breakdown | join("_") }}' as breakdown,
        {%- for dimension in dimensions %}
        {%- if dimension in breakdown %}
        {{ dimension }}_code,
        {%- else %}
        '_T' as {{ dimension }}_code,
        {%- endif %}
        {%- endfor %}
        value,
        obs_flag
    from ({{ canonical_cells(relation, breakdown, detail_only=false) }}) as cells
    {%- endfor %}
) as breakdowns
group by {% for position in range(3 + dimensions | length) %}{{ position + 1 }}{{ ', ' if not loop.last }}{% endfor %}
{% endmacro %}
