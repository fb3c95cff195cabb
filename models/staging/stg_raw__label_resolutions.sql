with

label_resolutions as (

    select * from {{ source('raw', 'label_resolutions') }}

),

final as (

    select
        reporting_country_code,
        codelist,
        label,
        code,
        method,
        score,
        suggestions

    from label_resolutions

)

select * from final
