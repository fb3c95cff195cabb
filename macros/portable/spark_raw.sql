{#-
    The raw store on Spark: every table of source `raw` (models/staging/_sources.yml) is an
    external Parquet table over the folder `migstat spark export` wrote
    (<MIGSTAT_SPARK_RAW>/<table>/). Runs as an on-run-start hook; nothing on DuckDB, where the
    raw schema is in the warehouse file itself.
-#}
{% macro register_raw_store() %}
{{- return(adapter.dispatch('register_raw_store', 'migstat')()) -}}
{% endmacro %}

{% macro default__register_raw_store() -%}
{%- endmacro %}

{% macro spark__register_raw_store() -%}
{%- if execute -%}
    {%- set root = env_var('MIGSTAT_SPARK_RAW', '') -%}
    {%- if not root -%}
        {{ exceptions.raise_compiler_error(
            "MIGSTAT_SPARK_RAW is not set: the folder of the raw store exported as Parquet "
            ~ "(migstat spark export)"
        ) }}
    {%- endif -%}
    {%- do run_query("create database if not exists raw") -%}
    {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
        {%- do run_query("drop table if exists raw." ~ source.name) -%}
        {%- do run_query(
            "create table raw." ~ source.name ~ " using parquet location '"
            ~ root ~ "/" ~ source.name ~ "'"
        ) -%}
    {%- endfor -%}
{%- endif -%}
{%- endmacro %}
