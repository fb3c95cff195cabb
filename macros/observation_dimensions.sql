{#- The dimensions of the long observation grain (int_observations_unioned), in display order.
    They follow from the source specs: `migstat build` passes them as the var
    `migstat_dimensions` (migstat/wiring.py), whose default in dbt_project.yml serves plain dbt
    runs. Each becomes `<name>_label` and `<name>_code` there (month also `month` as an
    integer). -#}
{% macro observation_dimensions() %}
{{ return(var('migstat_dimensions')) }}
{% endmacro %}


{#- The key of a cell along one dimension, for comparing coordinates: the code; '?<label>' for a
    label that does not resolve (so it still counts as its own member); '-' when the source has
    no such dimension. -#}
{% macro dimension_key(dimension, relation_alias=none) %}
{%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
coalesce({{ prefix }}{{ dimension }}_code, '?' || {{ prefix }}{{ dimension }}_label, '-')
{%- endmacro %}


{#- A number as a person reads it in a message: 1234 (no '.0'), 0.35. Total over every double:
    whole numbers go through bigint only below 2^53 (where a double is still exact, far from
    bigint's limit); larger magnitudes, infinities and NaN are written as the double itself
    ('1e+19', 'inf'), so no value in a workbook can make a rule model fail. -#}
{% macro format_number(expr) %}
case
    when {{ expr }} is null then null
    when abs({{ expr }}) < 9007199254740992 and {{ expr }} = round({{ expr }})
        then cast(cast({{ expr }} as bigint) as {{ text_type() }})
    when abs({{ expr }}) < 9007199254740992 then cast(round({{ expr }}, 4) as {{ text_type() }})
    else cast({{ expr }} as {{ text_type() }})
end
{%- endmacro %}


{#- The observation flags behind an aggregate: distinct flags in alphabetical order ('p', 'ep'),
    NULL when every contributing number is definitive. -#}
{% macro combine_flags(expr) %}
nullif({{ sorted_string_agg(expr, '') }}, '')
{%- endmacro %}


{#- Excel column letters of a 1-based column number (A ... XFD, Excel's last column, 16,384).
    Total: a number outside 1 ... 18,278 (ZZZ) is written as '#<number>' rather than failing. -#}
{% macro column_letter(expr) %}
case
    when {{ expr }} between 1 and 26 then chr(64 + {{ expr }})
    when {{ expr }} between 27 and 702
        then chr(64 + {{ int_div(expr ~ ' - 1', 26) }}) || chr(65 + ({{ expr }} - 1) % 26)
    when {{ expr }} between 703 and 18278
        then chr(64 + {{ int_div(int_div(expr ~ ' - 1', 26) ~ ' - 1', 26) }})
        || chr(65 + ({{ int_div(expr ~ ' - 1', 26) }} - 1) % 26)
        || chr(65 + ({{ expr }} - 1) % 26)
    else '#' || cast({{ expr }} as {{ text_type() }})
end
{%- endmacro %}


{#- The counting unit of a measure as a SQL literal ('events'), read from its one declaration:
    the measure's `unit` in specs/sources/<source>.yml, passed by `migstat build` as the var
    `migstat_counting_units` (migstat/wiring.py; the default in dbt_project.yml serves plain dbt
    runs). `source` may be a list of sources whose measure must share one unit. -#}
{% macro counting_unit(source, measure) %}
{%- set declared = var('migstat_counting_units') -%}
{%- set sources = [source] if source is string else source -%}
{%- set units = [] -%}
{%- for name in sources -%}
    {%- set unit = (declared.get(name) or {}).get(measure) -%}
    {%- if unit is none -%}
        {{ exceptions.raise_compiler_error("no counting unit for measure " ~ measure ~ " of source " ~ name ~ ": declare it in specs/sources/" ~ name ~ ".yml (measures: " ~ measure ~ ": unit)") }}
    {%- endif -%}
    {%- if unit not in units %}{% do units.append(unit) %}{% endif -%}
{%- endfor -%}
{%- if units | length != 1 -%}
    {{ exceptions.raise_compiler_error("measure " ~ measure ~ " has more than one counting unit across " ~ sources | join(', ') ~ ": " ~ units | join(', ')) }}
{%- endif -%}
'{{ units[0] }}'
{%- endmacro %}
