{#- Every row satisfies a SQL boolean expression (NULL counts as satisfied only when
    `allow_null`). -#}
{% test expression_is_true(model, expression, allow_null=true) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), {{ 'true' if allow_null else 'false' }})
{% endtest %}
