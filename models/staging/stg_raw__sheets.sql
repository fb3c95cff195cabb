with

sheets as (

    select * from {{ source('raw', 'spec_sheets') }}

),

final as (

    select * from sheets

)

select * from final
