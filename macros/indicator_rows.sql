{#- One indicator's rows in the long `indicators` mart: a select over an indicator mart with
    the indicator's id, names, unit and breakdown columns (the others NULL). -#}
{% macro indicator_rows(indicator_id, name_es, name_en, relation, value, unit, counting_unit,
                        where=none, breakdown={}, theme='movements') %}
{%- set breakdown_columns = ['month', 'flow_code', 'nationality_code', 'region_code',
                             'border_type', 'age_group_code', 'sex_code', 'permit_type_code',
                             'country_from_code'] %}
    select
        '{{ indicator_id }}' as indicator_id,
        '{{ name_es }}' as name_es,
        '{{ name_en }}' as name_en,
        '{{ theme }}' as theme,
        reporting_country_code,
        year,
        {%- for column in breakdown_columns %}
        {%- if column in breakdown %}
        {{ breakdown[column] }} as {{ column }},
        {%- elif column == 'month' %}
        cast(null as integer) as month,
        {%- else %}
        cast(null as {{ text_type() }}) as {{ column }},
        {%- endif %}
        {%- endfor %}
        cast({{ value }} as double) as value,
        '{{ unit }}' as unit,
        {{ counting_unit }} as counting_unit,
        obs_flag
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{% endmacro %}
