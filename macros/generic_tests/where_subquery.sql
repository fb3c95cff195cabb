{#- dbt's `get_where_subquery` (every generic data test reads its model through it), overridden
    so that a data test of a table merged by key checks, in an incremental build, only the rows
    of the touched (country, source, year) keys: the tests of int_observations_unioned and
    fct_observations read ~29 M rows at tier L, where a new period inserts ~1 M.

    A test opts in with `config: {meta: {touched_keys: {country: <column>, year: <column>,
    source: <column>}}}` (each optional); its `where` config, if any, still applies. In a full
    build (--full-refresh, or no `build_meta.touched_keys` table: a plain dbt run, Spark, a unit
    test) the test reads the whole table.

    Why a subset is enough: the previous build's table passed the same test over every row (a
    build publishes only when its error tests pass), deleting rows cannot break uniqueness nor a
    row condition, so a failure needs a row inserted by this build. The tables opting in insert
    only rows of touched keys (int_observations_unioned: the cells of submissions not judged yet,
    judged now, so touched; fct_observations: the published cells of the submissions published
    now, judged now or withdrawn/restored, so touched). A row condition is then checked on
    every inserted row. A uniqueness test opting in must have the key's country, source and
    year determined by its columns (the submission id is among them, or country, source and
    year themselves), so both rows of a duplicate share their key and both are in the subset.
    Rows without a country, source or year (a submission the loader could not place) belong to
    no touched key: they are always tested. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set keys = (config.get('meta') or {}).get('touched_keys') -%}
    {%- set touched = touched_keys_of_tests() if keys else none -%}
    {%- if touched is not none -%}
        {%- set columns = [keys.get('country'), keys.get('source'), keys.get('year')]
            | reject('none') | list -%}
        {%- set condition -%}
            ({{ touched_keys(keys.get('country'), keys.get('year'), source=keys.get('source'),
                             relation=touched) }}
            {%- for column in columns %} or {{ column }} is null{% endfor %})
        {%- endset -%}
        {%- set where = '(' ~ where ~ ') and ' ~ condition if where else condition -%}
    {%- endif -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The touched keys' table of an incremental build, seen from a data test (no `this` of an
    incremental model: macro touched_keys_relation), or none. -#}
{% macro touched_keys_of_tests() -%}
    {%- if flags.FULL_REFRESH or not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=target.database, schema='build_meta', identifier='touched_keys')) }}
{%- endmacro %}
