with

dimensions as (

    select * from {{ source('raw', 'spec_dimensions') }}

),

final as (

    select * from dimensions

)

select * from final
