with

age_groups as (

    select * from {{ ref('age_groups') }}

),

code_lists as (

    select * from {{ ref('code_lists') }}
    where codelist = 'age_groups'

),

final as (

    select
        age_groups.code as age_group_code,
        code_lists.name_es,
        code_lists.name_en,
        case when age_groups.code not in ('_T', '_U') then age_groups.age_from end as age_from,
        age_groups.age_to,
        coalesce(age_groups.is_minor, false) as is_minor,
        code_lists.sort_order

    from age_groups
    left join code_lists
        on age_groups.code = code_lists.code

)

select * from final
