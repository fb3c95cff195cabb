with

failures as (

    select * from {{ ref('int_rule_failures_unioned') }}

),

final as (

    select
        failure_id,
        submission_id,
        country_code,
        source,
        period,
        file_name,
        sheet,
        cell,
        rule_id,
        family,
        severity,
        expected,
        found,
        message_es,
        message_en,
        submission_status

    from failures

)

select * from final
