with

countries as (

    select * from {{ ref('countries') }}

),

ports as (

    select * from {{ ref('ports') }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

reporting_countries as (

    select reporting_country_code as country_code from ports
    union
    select country_code from submissions
    where country_code is not null

),

final as (

    select
        countries.code as country_code,
        nullif(countries.iso2, '') as iso2,
        nullif(countries.iso_numeric, '') as iso_numeric,
        countries.name_es,
        countries.name_en,
        coalesce(nullif(countries.region_code, ''), '_U') as region_code,
        countries.region_name_es,
        countries.region_name_en,
        coalesce(nullif(countries.subregion_code, ''), '_U') as subregion_code,
        countries.subregion_name_es,
        countries.subregion_name_en,
        reporting_countries.country_code is not null as is_reporting_country

    from countries
    left join reporting_countries
        on countries.code = reporting_countries.country_code
    where countries.code <> '_T'

)

select * from final
