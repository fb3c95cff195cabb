{#-
    Every rule failure of every received file version, in the words of the rule catalogue:
    the dbt rule families (models/intermediate/rules/) plus the loader's rejections
    (raw.submissions.error_rule), each joined to its submission and to specs/rules.yml.
-#}

{#- Every family of specs/rules.yml (vars set by `migstat build`). -#}
{%- set families = var('rule_families_blocking') + var('rule_families_warning') %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

rules as (

    select * from {{ ref('stg_raw__rules') }}

),

dimensions as (

    select * from {{ ref('stg_raw__dimensions') }}

),

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}

),

{% for family in families %}
    {{ family }}_failures as (

        select * from {{ ref('int_' ~ family ~ '_failures_detected') }}

    ),

{% endfor %}
rejections as (

    select
        submission_id,
        coalesce(error_rule, 'STR-LAYOUT') as rule_id,
        error_sheet as sheet,
        error_cell as cell,
        cast(null as integer) as row_number,
        cast(null as integer) as column_number,
        cast(null as {{ text_type() }}) as expected,
        cast(null as {{ text_type() }}) as found,
        cast(null as {{ text_type() }}) as label,
        cast(null as {{ text_type() }}) as dimension,
        error_message as detail,
        error_message_es as detail_es

    from submissions
    where is_rejected

),

failures as (

    {% for family in families %}
        select
            {{ failure_columns() | join(', ') }},
            cast(null as {{ text_type() }}) as detail_es
        from {{ family }}_failures
        union all
    {% endfor %}
    select
        {{ failure_columns() | join(', ') }},
        detail_es
    from rejections

),

final as (

    select
        failures.submission_id
        || '-' || cast(row_number() over (
            partition by failures.submission_id
            order by
                failures.rule_id,
                failures.sheet,
                failures.row_number,
                failures.column_number,
                failures.cell,
                failures.dimension,
                failures.label
        ) as {{ text_type() }}) as failure_id,
        failures.submission_id,
        submissions.country_code,
        submissions.source,
        submissions.period,
        submissions.file_name,
        failures.sheet,
        failures.cell,
        failures.row_number,
        failures.column_number,
        failures.rule_id,
        rules.family,
        coalesce(rules.severity, 'error') as severity,
        failures.expected,
        failures.found,
        failures.label,
        failures.dimension,
        failures.detail,
        {{ render_message('rules.message_es', 'es') }} as message_es,
        {{ render_message('rules.message_en', 'en') }} as message_en,
        verdicts.status as submission_status

    from failures
    inner join submissions
        on failures.submission_id = submissions.submission_id
    left join rules
        on failures.rule_id = rules.rule_id
    left join dimensions
        on submissions.source = dimensions.source and failures.dimension = dimensions.dimension
    left join verdicts
        on failures.submission_id = verdicts.submission_id

)

select * from final
