with

sources as (

    select * from {{ ref('stg_raw__sources') }}

),

measures as (

    select * from {{ ref('stg_raw__measures') }}

),

final as (

    select
        measures.source,
        measures.measure,
        measures.unit as counting_unit,
        measures.allow_decimals as allows_decimals,
        sources.title_es as source_title_es,
        sources.title_en as source_title_en,
        measures.title_es as measure_title_es,
        measures.title_en as measure_title_en

    from measures
    inner join sources
        on measures.source = sources.source

)

select * from final
