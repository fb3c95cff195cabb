with

submission_sheets as (

    select * from {{ source('raw', 'submission_sheets') }}

),

final as (

    select * from submission_sheets

)

select * from final
