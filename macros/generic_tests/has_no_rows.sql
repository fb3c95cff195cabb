{#- The model is empty. On a rule-failure model (severity warn) it reports how many failures a
    rule family found in this build, without failing the build: quarantine is computed in the
    models, before the marts, so one bad submission never blocks the others. -#}
{% test has_no_rows(model) %}
select * from {{ model }}
{% endtest %}
