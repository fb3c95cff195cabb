with

ports as (

    select * from {{ ref('ports') }}

),

border_types as (

    select * from {{ ref('code_lists') }}
    where codelist = 'border_types'

),

final as (

    select
        ports.port_code,
        ports.reporting_country_code,
        ports.name,
        ports.border_type,
        border_types.name_es as border_type_name_es,
        border_types.name_en as border_type_name_en

    from ports
    left join border_types
        on ports.border_type = border_types.code

)

select * from final
