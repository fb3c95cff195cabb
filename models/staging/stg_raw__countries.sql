with

countries as (

    select * from {{ source('raw', 'spec_countries') }}

),

final as (

    select * from countries

)

select * from final
