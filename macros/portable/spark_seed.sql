{#-
    Seeds on Spark: dbt-spark's loader substitutes the values into its insert without escaping
    them (session mode: `sql % parameters`), so a name such as "Côte d'Ivoire" breaks the
    statement. This root-project override (dispatch prefers it to the adapter's own) writes each
    value as an escaped Spark string literal cast to the column's type.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
{%- set column_override = model['config'].get('column_types', {}) -%}
{%- set statements = [] -%}
{%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
        insert into {{ this.render() }} values
        {% for row in chunk -%}
            ({%- for value in row -%}
                {%- set col_name = agate_table.column_names[loop.index0] -%}
                {%- set type = column_override.get(
                    col_name, adapter.convert_type(agate_table, loop.index0)
                ) -%}
                {%- if value is none -%}
                    cast(null as {{ type }})
                {%- else -%}
                    cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                {%- endif -%}
                {{- "," if not loop.last -}}
            {%- endfor -%}){{ "," if not loop.last }}
        {% endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
{%- endfor -%}
{{ return(statements[0]) }}
{% endmacro %}
