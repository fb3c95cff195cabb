{#- The combination of `columns` is unique (dbt_utils' unique_combination_of_columns, which
    cannot be installed here).

    On DuckDB the rows are first grouped by one 64-bit hash of the combination, and only the
    rows whose hash occurs more than once are grouped by the columns themselves: equal
    combinations have equal hashes, so every duplicate is among those rows and the result is
    the same rows (a hash collision of two different combinations is grouped apart in the
    second step). Grouping ~29 M rows of `int_observations_unioned` or `fct_observations` at
    tier L by their text columns built a hash table of every distinct combination (9.1-9.4 CPU
    s, 2.6 GB); by the hash, 7.0-7.7 CPU s and 1.9-2.0 GB (bench/results/L.md). -#}
{% test unique_combination(model, columns) %}
{%- if target.type == 'duckdb' %}
with

candidates as (

    select hash({{ columns | join(', ') }}) as combination_hash
    from {{ model }}
    group by 1
    having count(*) > 1

)

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
where hash({{ columns | join(', ') }}) in (select combination_hash from candidates)
group by {{ columns | join(', ') }}
having count(*) > 1
{%- else %}
select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endtest %}
