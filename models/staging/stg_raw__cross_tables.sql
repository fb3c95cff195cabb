with

cross_tables as (

    select * from {{ source('raw', 'spec_cross_tables') }}

),

final as (

    select * from cross_tables

)

select * from final
