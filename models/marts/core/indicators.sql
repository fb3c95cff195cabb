{#- Counting units from their one declaration, the source specs (macro counting_unit). -#}
{%- set movements_unit = counting_unit('entries_exits', 'movements') %}
{%- set presentations_unit = counting_unit('irregular_foreigners', 'presentations') %}
{%- set residence_permits_unit = counting_unit('residence_permits', 'permits') %}
{%- set work_permits_unit = counting_unit('work_permits', 'permits') %}
{%- set applications_unit = counting_unit('asylum', 'applications') %}
{%- set decisions_unit = counting_unit('asylum', 'decisions') %}
{%- set returnees_unit = counting_unit('returns', 'returnees') %}

{#- Every comparable indicator in one long table. Definitions live in the indicator marts;
    this model only lays them out (one call of macro indicator_rows per indicator). -#}
with

movements_yearly as (

    select * from {{ ref('movements_yearly') }}

),

movements_monthly as (

    select * from {{ ref('movements_monthly') }}

),

movements_by_nationality as (

    select * from {{ ref('movements_by_nationality') }}

),

movements_by_region as (

    select * from {{ ref('movements_by_region') }}

),

movements_by_border_type as (

    select * from {{ ref('movements_by_border_type') }}

),

movements_by_age_group as (

    select * from {{ ref('movements_by_age_group') }}

),

permits as (

    select * from {{ ref('permits_by_type_nationality') }}

),

permits_by_type as (

    select
        reporting_country_code,
        year,
        source,
        permit_type_code,
        sum(permits) as permits,
        {{ combine_flags('obs_flag') }} as obs_flag

    from permits
    group by 1, 2, 3, 4

),

asylum_yearly as (

    select * from {{ ref('asylum_yearly') }}

),

returns as (

    select * from {{ ref('returns_by_origin_sex_age') }}

),

irregular as (

    select * from {{ ref('irregular_foreigners_by_nationality_sex_age') }}

),

irregular_minors as (

    select
        reporting_country_code,
        year,
        sum(case when is_minor then share else 0 end) as minors_share,
        sum(case when is_unaccompanied_minor then share else 0 end) as unaccompanied_share,
        {{ combine_flags('obs_flag') }} as obs_flag

    from irregular
    where breakdown = 'age_group_sex'
    group by 1, 2

),

unioned as (

{{ indicator_rows('entries_nationals', 'Entradas de nacionales', 'Entries of nationals',
    'movements_yearly', 'entries_nationals', 'count', movements_unit) }}
    union all
{{ indicator_rows('entries_foreigners', 'Entradas de extranjeros', 'Entries of foreigners',
    'movements_yearly', 'entries_foreigners', 'count', movements_unit) }}
    union all
{{ indicator_rows('exits_nationals', 'Salidas de nacionales', 'Exits of nationals',
    'movements_yearly', 'exits_nationals', 'count', movements_unit) }}
    union all
{{ indicator_rows('exits_foreigners', 'Salidas de extranjeros', 'Exits of foreigners',
    'movements_yearly', 'exits_foreigners', 'count', movements_unit) }}
    union all
{{ indicator_rows('net_balance', 'Saldo neto de movimientos', 'Net balance of movements',
    'movements_yearly', 'net_balance', 'count', movements_unit) }}
    union all
{{ indicator_rows('entries_women_share', 'Proporción de mujeres en las entradas',
    "Women''s share of entries", 'movements_yearly', 'entries_women_share', 'share', movements_unit) }}
    union all
{{ indicator_rows('entries_yoy_change', 'Variación interanual de las entradas',
    'Year-on-year change of entries', 'movements_yearly', 'entries_yoy_change', 'change',
    movements_unit, where='entries_yoy_change is not null') }}
    union all
{{ indicator_rows('entries_minors_share', 'Proporción de menores en las entradas',
    "Minors'' share of entries", '(select distinct reporting_country_code, year, flow_code, minors_share, obs_flag from movements_by_age_group) as minors',
    'minors_share', 'share', movements_unit, where="flow_code = 'ENT'",
    breakdown={'flow_code': 'flow_code'}) }}
    union all
{{ indicator_rows('seasonality_share', 'Perfil mensual (proporción del año)',
    'Monthly profile (share of the year)', 'movements_monthly', 'seasonality_share', 'share',
    movements_unit, breakdown={'month': 'month', 'flow_code': 'flow_code'}) }}
    union all
{{ indicator_rows('nationality_share', 'Proporción de la nacionalidad entre los extranjeros',
    'Share of the nationality among foreigners', 'movements_by_nationality',
    'share_of_foreigners', 'share', movements_unit, where="traveller_type = 'FOR'",
    breakdown={'flow_code': 'flow_code', 'nationality_code': 'nationality_code'}) }}
    union all
{{ indicator_rows('region_share', 'Proporción por región de nacionalidad (M49)',
    'Share by region of nationality (M49)', 'movements_by_region', 'share', 'share',
    movements_unit, breakdown={'flow_code': 'flow_code', 'region_code': 'region_code'}) }}
    union all
{{ indicator_rows('border_type_share', 'Proporción por tipo de frontera',
    'Share by border type', 'movements_by_border_type', 'share', 'share', movements_unit,
    breakdown={'flow_code': 'flow_code', 'border_type': 'border_type'}) }}
    union all
{{ indicator_rows('residence_permits', 'Permisos de residencia otorgados',
    'Residence permits granted', 'permits_by_type', 'permits', 'count', residence_permits_unit,
    where="source = 'residence_permits'", breakdown={'permit_type_code': 'permit_type_code'}, theme='permits') }}
    union all
{{ indicator_rows('work_permits', 'Permisos de trabajo otorgados', 'Work permits granted',
    'permits_by_type', 'permits', 'count', work_permits_unit, where="source = 'work_permits'", theme='permits') }}
    union all
{{ indicator_rows('asylum_applications', 'Solicitudes de asilo', 'Asylum applications',
    'asylum_yearly', 'applications', 'count', applications_unit, theme='asylum') }}
    union all
{{ indicator_rows('asylum_decisions', 'Resoluciones de asilo', 'Asylum decisions',
    'asylum_yearly', 'decisions_total', 'count', decisions_unit, theme='asylum') }}
    union all
{{ indicator_rows('asylum_recognition_rate', 'Tasa de reconocimiento de asilo',
    'Asylum recognition rate', 'asylum_yearly', 'recognition_rate', 'rate', decisions_unit,
    where='recognition_rate is not null', theme='asylum') }}
    union all
{{ indicator_rows('returnees', 'Nacionales retornados', 'Returned nationals', 'returns',
    'returnees', 'count', returnees_unit, where="breakdown = 'country_from'",
    breakdown={'country_from_code': 'country_from_code'}, theme='returns') }}
    union all
{{ indicator_rows('returnees_by_sex', 'Nacionales retornados por sexo',
    'Returned nationals by sex', 'returns', 'returnees', 'count', returnees_unit,
    where="breakdown = 'sex'", breakdown={'sex_code': 'sex_code'}, theme='returns') }}
    union all
{{ indicator_rows('irregular_presentations', 'Extranjeros presentados ante la autoridad migratoria',
    'Foreigners presented to the migration authority', 'irregular', 'presentations', 'count',
    presentations_unit, where="breakdown = 'nationality_sex'",
    breakdown={'nationality_code': 'nationality_code', 'sex_code': 'sex_code'}, theme='irregular') }}
    union all
{{ indicator_rows('irregular_minors_share', 'Proporción de menores entre los extranjeros presentados',
    "Minors'' share of foreigners presented", 'irregular_minors', 'minors_share', 'share',
    presentations_unit, theme='irregular') }}

),

final as (

    select * from unioned

)

select * from final
