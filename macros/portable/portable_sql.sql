{#-
    Portable SQL: every construct that DuckDB and Spark SQL spell differently goes through one of
    these macros (adapter.dispatch, macro_namespace 'migstat'). `default__` is the DuckDB
    spelling (the project's main engine); `spark__` is Spark SQL 3.4+/4.x (Databricks too).
    A new engine adds its `<adapter>__` implementations here; models never spell an
    engine-only function inline (tests/python/test_portable_sql.py greps for them).
-#}

{#- The non-null values of `expr` in a group (each once when `distinct`), sorted, joined by
    `separator`; NULL when the group has none. -#}
{% macro sorted_string_agg(expr, separator, distinct=true) %}
{{- return(adapter.dispatch('sorted_string_agg', 'migstat')(expr, separator, distinct)) -}}
{% endmacro %}

{#- DuckDB: an ordered string_agg (with distinct) becomes a second aggregate joined back to the
    groups, which cost more than the rest of a mart (issue 10: movements_by_nationality_sex_age
    1.8 -> 0.4 CPU s for one year of tier L). The same value from plain aggregates: a group whose
    values are all one value (almost every group: a mart's flags) is that value; otherwise the
    list of its non-null values, sorted (and deduplicated), joined; no non-null value gives
    NULL, as string_agg. -#}
{% macro default__sorted_string_agg(expr, separator, distinct) -%}
{%- set values -%}
    list({{ expr }}) filter (where {{ expr }} is not null)
{%- endset -%}
case
    {%- if distinct %}
    when min({{ expr }}) = max({{ expr }}) then min({{ expr }})
    {%- endif %}
    when count({{ expr }}) > 0
        then array_to_string(list_sort({{ 'list_distinct(' ~ values ~ ')' if distinct else values }}), '{{ separator }}')
end
{%- endmacro %}

{% macro spark__sorted_string_agg(expr, separator, distinct) -%}
case
    when count({{ expr }}) > 0
        then array_join(
            array_sort({{ 'collect_set' if distinct else 'collect_list' }}({{ expr }})),
            '{{ separator }}'
        )
end
{%- endmacro %}



{#- Written after `<cte name> as` of an import CTE that several CTEs read (a rule model's
    `observations`): DuckDB materializes a CTE read more than once, a copy of every row it
    selects (at tier L, tens of millions of wide cells spilled to disk); `not materialized`
    inlines it into each reader instead, where filters and column pruning reach the table scan.
    Spark always inlines a CTE: nothing to say. -#}
{% macro not_materialized() %}
{{- return(adapter.dispatch('not_materialized', 'migstat')()) -}}
{% endmacro %}

{% macro default__not_materialized() -%}
not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}

{#- One 64-bit hash of several text columns, for joining on a compound key without building a
    long string per row (DuckDB hash() / Spark xxhash64(): the same column values give the same
    hash; different values collide with a chance of about 2^-64 per pair). -#}
{% macro key_hash(exprs) %}
{{- return(adapter.dispatch('key_hash', 'migstat')(exprs)) -}}
{% endmacro %}

{% macro default__key_hash(exprs) -%}
hash({{ exprs | join(', ') }})
{%- endmacro %}

{% macro spark__key_hash(exprs) -%}
xxhash64({{ exprs | join(', ') }})
{%- endmacro %}


{#- The median of a numeric expression (interpolated between the two middle values). -#}
{% macro median(expr) %}
{{- return(adapter.dispatch('median', 'migstat')(expr)) -}}
{% endmacro %}

{% macro default__median(expr) -%}
median({{ expr }})
{%- endmacro %}

{% macro spark__median(expr) -%}
percentile({{ expr }}, 0.5)
{%- endmacro %}


{#- Capture group `group` of the first match of `pattern` in `expr`; '' when it does not match.
    The pattern must be written without backslashes (use [.] rather than \.): the engines
    unescape string literals differently. -#}
{% macro regexp_extract(expr, pattern, group) %}
{{- return(adapter.dispatch('regexp_extract', 'migstat')(expr, pattern, group)) -}}
{% endmacro %}

{% macro default__regexp_extract(expr, pattern, group) -%}
regexp_extract({{ expr }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{% macro spark__regexp_extract(expr, pattern, group) -%}
regexp_extract({{ expr }}, '{{ pattern }}', {{ group }})
{%- endmacro %}


{#- True when the whole of `expr` matches `pattern` (same backslash rule as regexp_extract). -#}
{% macro regexp_full_match(expr, pattern) %}
{{- return(adapter.dispatch('regexp_full_match', 'migstat')(expr, pattern)) -}}
{% endmacro %}

{% macro default__regexp_full_match(expr, pattern) -%}
regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_full_match(expr, pattern) -%}
({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}


{#- The 1-based position of `item` in the comma-separated list `csv`; NULL when absent. -#}
{% macro csv_position(csv, item) %}
{{- return(adapter.dispatch('csv_position', 'migstat')(csv, item)) -}}
{% endmacro %}

{% macro default__csv_position(csv, item) -%}
list_position(string_split({{ csv }}, ','), {{ item }})
{%- endmacro %}

{% macro spark__csv_position(csv, item) -%}
nullif(array_position(split({{ csv }}, ','), {{ item }}), 0)
{%- endmacro %}


{#- Integer division of two integers (truncated), an integer. -#}
{% macro int_div(numerator, denominator) %}
{{- return(adapter.dispatch('int_div', 'migstat')(numerator, denominator)) -}}
{% endmacro %}

{% macro default__int_div(numerator, denominator) -%}
({{ numerator }}) // ({{ denominator }})
{%- endmacro %}

{#- Spark's `div` gives a bigint; DuckDB's `//` of two integers an integer (contracts see it). -#}
{% macro spark__int_div(numerator, denominator) -%}
cast(({{ numerator }}) div ({{ denominator }}) as int)
{%- endmacro %}


{#- A date or timestamp as 'YYYY-MM'. -#}
{% macro year_month(expr) %}
{{- return(adapter.dispatch('year_month', 'migstat')(expr)) -}}
{% endmacro %}

{% macro default__year_month(expr) -%}
strftime({{ expr }}, '%Y-%m')
{%- endmacro %}

{% macro spark__year_month(expr) -%}
date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}


{#- `expr` cast to `type`, NULL when it does not convert (instead of an error). -#}
{% macro try_cast(expr, type) %}
{{- return(adapter.dispatch('try_cast', 'migstat')(expr, type)) -}}
{% endmacro %}

{% macro default__try_cast(expr, type) -%}
try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro spark__try_cast(expr, type) -%}
try_cast({{ expr }} as {{ type }})
{%- endmacro %}


{#- The engine's text type, for casts (DuckDB varchar, Spark string). -#}
{% macro text_type() %}
{{- return(adapter.dispatch('text_type', 'migstat')()) -}}
{% endmacro %}

{% macro default__text_type() -%}
varchar
{%- endmacro %}

{% macro spark__text_type() -%}
string
{%- endmacro %}


{#- A 'day<sep>month<sep>year' text ('5/3/2024', '05-03-2024') as a timestamp; NULL when it is
    not one. -#}
{% macro try_parse_day_month_year(expr, separator) %}
{{- return(adapter.dispatch('try_parse_day_month_year', 'migstat')(expr, separator)) -}}
{% endmacro %}

{% macro default__try_parse_day_month_year(expr, separator) -%}
try_strptime({{ expr }}, '%d{{ separator }}%m{{ separator }}%Y')
{%- endmacro %}

{% macro spark__try_parse_day_month_year(expr, separator) -%}
try_to_timestamp({{ expr }}, 'd{{ separator }}M{{ separator }}yyyy')
{%- endmacro %}


{#- The bitwise exclusive or of several 64-bit hashes (key_hash values), one 64-bit hash: the
    xor of the hashes of a cell's parts, from which one part's hash is taken out again by a xor
    with it (DuckDB xor() on ubigint / Spark ^ on bigint). -#}
{% macro xor_hashes(exprs) %}
{{- return(adapter.dispatch('xor_hashes', 'migstat')(exprs)) -}}
{% endmacro %}

{% macro default__xor_hashes(exprs) -%}
{%- set ns = namespace(sql=exprs[0]) -%}
{%- for expr in exprs[1:] -%}
    {%- set ns.sql = 'xor(' ~ ns.sql ~ ', ' ~ expr ~ ')' -%}
{%- endfor -%}
{{ ns.sql }}
{%- endmacro %}

{% macro spark__xor_hashes(exprs) -%}
({{ exprs | join(' ^ ') }})
{%- endmacro %}
