{#- Shares add up to 1 within each group (a mart's shares are additive by construction). -#}
{% test shares_sum_to_one(model, column_name, group_by, tolerance=0.000001) %}
select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total_share
from {{ model }}
where {{ column_name }} is not null
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - 1) > {{ tolerance }}
{% endtest %}
