{#- Schemas are exactly the folder's +schema (staging, intermediate, marts, codes, audit):
    no target-schema prefix, so dashboards can name `marts.movements_yearly` in any target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
