with

withdrawals as (

    select * from {{ source('raw', 'withdrawals') }}

),

final as (

    select
        submission_id,
        withdrawn_at,
        withdrawn_by,
        reason as withdrawal_reason

    from withdrawals

)

select * from final
