with

sources as (

    select * from {{ source('raw', 'spec_sources') }}

),

final as (

    select * from sources

)

select * from final
