{#-
    Label -> code resolution in DuckDB SQL: the same steps as migstat/codes.py, which a pytest
    (tests/python/test_codes.py) holds to agreement on every alias, a corpus of real spellings
    and generated strings. Change both together.

    clean:      superscript digits -> digits, accents stripped, lower case, every character other
                than a-z 0-9 _ ( ) . * -> one space, trimmed
    key:        every character other than a-z 0-9 _ -> one space, trimmed (the alias form)
    candidates: key(clean), key(no qualifier), key(no footnote), key(no footnote, no qualifier)
-#}

{% macro clean_label(expr) -%}
trim(regexp_replace(lower(strip_accents(translate(({{ expr }}), '⁰¹²³⁴⁵⁶⁷⁸⁹', '0123456789'))), '[^a-z0-9_().*]+', ' ', 'g'), ' ')
{%- endmacro %}

{% macro label_key(cleaned) -%}
trim(regexp_replace(({{ cleaned }}), '[^a-z0-9_]+', ' ', 'g'), ' ')
{%- endmacro %}

{% macro normalize_label(expr) -%}
{{ label_key(clean_label(expr)) }}
{%- endmacro %}

{% macro strip_label_qualifier(cleaned) -%}
regexp_replace(({{ cleaned }}), '^(.*[^ ]) ?\([^()]*\)$', '\1')
{%- endmacro %}

{% macro strip_label_footnote(cleaned) -%}
regexp_replace(regexp_replace(({{ cleaned }}), '^(.*[^ *]) ?\*+$', '\1'), '^(.*[a-z).]) ?(\([0-9]{1,2}\)|[0-9]{1,2})$', '\1')
{%- endmacro %}

{% macro label_candidate(expr, position) -%}
{%- set cleaned = clean_label(expr) -%}
{%- if position == 1 -%}
{{ label_key(cleaned) }}
{%- elif position == 2 -%}
{{ label_key(strip_label_qualifier(cleaned)) }}
{%- elif position == 3 -%}
{{ label_key(strip_label_footnote(cleaned)) }}
{%- elif position == 4 -%}
{{ label_key(strip_label_qualifier(strip_label_footnote(cleaned))) }}
{%- else -%}
{{ exceptions.raise_compiler_error("label_candidate: position must be 1, 2, 3 or 4") }}
{%- endif -%}
{%- endmacro %}

{% macro label_candidates(expr) -%}
[{{ label_candidate(expr, 1) }}, {{ label_candidate(expr, 2) }}, {{ label_candidate(expr, 3) }}, {{ label_candidate(expr, 4) }}]
{%- endmacro %}

{% macro resolve_label(expr, codelist, aliases=none) -%}
{%- if aliases is none -%}{%- set aliases = ref('code_aliases') -%}{%- endif -%}
coalesce(
{%- for position in [1, 2, 3, 4] %}
    (select a.code from {{ aliases }} as a where a.codelist = '{{ codelist }}' and a.alias = {{ label_candidate(expr, position) }}){{ "," if not loop.last }}
{%- endfor %}
)
{%- endmacro %}
