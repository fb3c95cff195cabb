with

rules as (

    select * from {{ source('raw', 'spec_rules') }}

),

final as (

    select * from rules

)

select * from final
