with

observations as (

    select * from {{ ref('fct_observations') }}

),

months as (

    select * from {{ ref('code_lists') }}
    where codelist = 'months' and code not in ('_T', '_U')

),

years as (

    select distinct year from observations

),

final as (

    select
        years.year,
        cast(months.code as integer) as month,
        months.code as month_code,
        months.name_es as month_name_es,
        months.name_en as month_name_en,
        {{ int_div('cast(months.code as integer) + 2', 3) }} as quarter,
        make_date(years.year, cast(months.code as integer), 1) as period_start_date

    from years
    cross join months

    union all

    select
        year,
        cast(null as integer) as month,
        '_T' as month_code,
        'Año completo' as month_name_es,
        'Whole year' as month_name_en,
        cast(null as integer) as quarter,
        make_date(year, 1, 1) as period_start_date

    from years

)

select * from final
