with

measures as (

    select * from {{ source('raw', 'spec_measures') }}

),

final as (

    select * from measures

)

select * from final
