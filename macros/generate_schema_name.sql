{#- Schemas are the folder's +schema (staging, intermediate, marts, codes, audit), kept apart by
    environment when several share one warehouse (a Spark cluster, a shared database):

    * MIGSTAT_ENVIRONMENT unset or `prod`: exactly the folder's schema (`marts`), what Superset and
      the products read. `migstat build` writes its own file per build, so the embedded default
      is always this one.
    * `ci`: `ci_<MIGSTAT_CI_RUN or 'local'>_<schema>` (`ci_4242_marts`), one set per CI run.
    * `dev`: `dev_<MIGSTAT_DEVELOPER or $USER>_<schema>` (`dev_ana_marts`), one set per engineer.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- set environment = env_var('MIGSTAT_ENVIRONMENT', 'prod') | lower -%}
    {%- if environment == 'prod' -%}
        {{ schema }}
    {%- elif environment == 'ci' -%}
        ci_{{ env_var('MIGSTAT_CI_RUN', 'local') | lower }}_{{ schema }}
    {%- elif environment == 'dev' -%}
        dev_{{ env_var('MIGSTAT_DEVELOPER', env_var('USER', 'anonymous')) | lower }}_{{ schema }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "MIGSTAT_ENVIRONMENT must be prod, ci or dev, not '" ~ environment ~ "'"
        ) }}
    {%- endif -%}
{%- endmacro %}
