with

tolerances as (

    select * from {{ source('raw', 'spec_rule_tolerances') }}

),

final as (

    select
        rule_id,
        tolerance_key,
        tolerance_value

    from tolerances

)

select * from final
