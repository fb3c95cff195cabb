{#- Helpers shared by the rule models (models/intermediate/rules/). -#}

{#- A tolerance of a rule from the catalogue (specs/rules.yml, staged as
    stg_raw__rule_tolerances): a scalar subquery the rule model joins when it runs, so the
    compiled SQL is the same whatever the database holds; `default` when the catalogue gives the
    rule no such tolerance. -#}
{% macro rule_tolerance(rule_id, key, default) -%}
coalesce((
    select tolerances.tolerance_value
    from {{ ref('stg_raw__rule_tolerances') }} as tolerances
    where tolerances.rule_id = '{{ rule_id }}' and tolerances.tolerance_key = '{{ key }}'
), {{ default }})
{%- endmacro %}


{#- A tolerance of a rule as a number, read from the catalogue when the model runs (a window
    written as literals, macro touched_keys); `default` while dbt parses. Only for incremental
    runs: a unit test has no catalogue table to read. -#}
{% macro rule_tolerance_number(rule_id, key, default) -%}
    {%- if not execute -%}
        {{ return(default) }}
    {%- endif -%}
    {%- set rows = run_query('select ' ~ rule_tolerance(rule_id, key, default)).rows -%}
    {{ return(rows[0][0] if rows and rows[0][0] is not none else default) }}
{%- endmacro %}


{#- Plausibility's window in an incremental build, in years: a submission's verdicts read the
    published years of its series within `history_years` of its own (PLA-002) and the previous
    year (PLA-001; PLA-002's January), so a touched year can change the verdicts of the same
    country and source within max(history_years, 1) years of it. -#}
{% macro plausibility_window() -%}
    {%- if touched_keys_relation() is none or not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {{ return([rule_tolerance_number('PLA-002', 'history_years', 5) | int, 1] | max) }}
{%- endmacro %}


{#- True when a dimension key is a UN M49 region code (three digits), i.e. a reported subtotal
    row such as "Centroamérica" in a nationality column. -#}
{% macro is_region_key(expr) -%}
{{ regexp_full_match(expr, '[0-9]{3}') }}
{%- endmacro %}


{#- The dimensions whose code list is `countries` (they may carry region subtotal rows). -#}
{% macro country_dimensions() %}
{{ return(['nationality', 'country_from']) }}
{% endmacro %}


{#- The columns every *_failures_detected model returns, in this order. -#}
{% macro failure_columns() %}
{{ return(['submission_id', 'rule_id', 'sheet', 'cell', 'row_number', 'column_number',
           'expected', 'found', 'label', 'dimension', 'detail']) }}
{% endmacro %}


{#- Render a catalogue message: replace each {placeholder} with the failure's value. -#}
{#- {dimension} is the dimension's title in the message's language (lower case), from the
    source spec, so a Spanish message never carries an English dimension name. -#}
{% macro render_message(
    template, lang, failure_alias='failures', submission_alias='submissions',
    dimension_alias='dimensions'
) -%}
{%- set placeholders = {
    'sheet': failure_alias ~ '.sheet',
    'cell': failure_alias ~ '.cell',
    'expected': failure_alias ~ '.expected',
    'found': failure_alias ~ '.found',
    'label': failure_alias ~ '.label',
    'dimension': 'coalesce(lower(' ~ dimension_alias ~ '.title_' ~ lang ~ '), ' ~ failure_alias ~ '.dimension)',
    'detail': 'coalesce(' ~ failure_alias ~ '.detail_' ~ lang ~ ', ' ~ failure_alias ~ '.detail)'
        if lang == 'es' else failure_alias ~ '.detail',
    'country': submission_alias ~ '.country_code',
    'year': 'cast(' ~ submission_alias ~ '.reference_year as ' ~ text_type() ~ ')',
    'source': submission_alias ~ '.source',
    'file_name': submission_alias ~ '.file_name',
} -%}
{%- set ns = namespace(sql=template) -%}
{%- for name, expr in placeholders.items() -%}
    {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ name ~ "}', coalesce(" ~ expr ~ ", '-'))" -%}
{%- endfor -%}
{{ ns.sql }}
{%- endmacro %}


{#- A cell that carries a label of `dimension` rule COD-001/002 judges: an aggregate row the layout
    declares (a subtotal row of the row dimension without a code) is known by its place, not by
    a code. -#}
{% macro labelled_cell(dimension, relation_alias=none) %}
{%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
{{ prefix }}{{ dimension }}_label is not null
and not (
    {{ prefix }}{{ dimension }}_code is null
    and {{ prefix }}cell_role = 'subtotal'
    and {{ prefix }}row_dimension is not distinct from '{{ dimension }}'
)
{%- endmacro %}


{#- True when a cell's row has no label along the layout sheet's row dimension (STR-009):
    `sheets` is the layout sheet (stg_raw__sheet_positions), `cells` the observation. -#}
{% macro row_label_is_missing(sheets='sheets', cells='observations') -%}
{{ sheets }}.row_dimension is not null and case {{ sheets }}.row_dimension
{%- for dimension in observation_dimensions() %} when '{{ dimension }}' then {{ cells }}.{{ dimension }}_label{% endfor %} end is null
{%- endmacro %}


{#- The cells (int_observations_unioned) of the submissions whose verdict meets `condition`
    (a condition on int_submissions_verdicted), as a subquery to read from: each step that
    reads it scans the table itself, where a CTE read by several steps would make the engine
    keep a copy of every cell (at tier L a copy of tens of millions of rows, spilled). -#}
{% macro cells_with_verdict(condition) -%}
{{ return(
    '(select observations.* from ' ~ ref('int_observations_unioned') ~ ' as observations'
    ~ ' inner join ' ~ ref('int_submissions_verdicted') ~ ' as verdicts'
    ~ ' on observations.submission_id = verdicts.submission_id where verdicts.' ~ condition ~ ')'
) }}
{%- endmacro %}
