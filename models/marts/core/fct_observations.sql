{#- Incremental, merged by (country, source, period): each key publishes one submission, so a
    build deletes the rows of the submissions no longer published (a newer version accepted, a
    withdrawal) and adds those of the submissions published now and not here yet. -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where submission_id not in (select submission_id from {{ ref('int_submissions_verdicted') }} where is_published){% endif %}",
) }}

{#- An incremental run adds the published submissions not here yet, their ids read when it
    runs and written as literals: the scan of the observations then skips every row group of
    the others (a `not in` this table read every observation ever stored first). -#}
{%- set new_submissions = new_submission_ids(
    'select submission_id from ' ~ ref('int_submissions_verdicted') ~ ' where is_published') %}
{#- Dimensions with columns of their own below; any other dimension of the specs (a new
    source's) is published as its `<dimension>_code`, after these. -#}
{%- set shown_dimensions = ['flow', 'nationality', 'country_from', 'sex', 'age_group', 'port',
                            'permit_type', 'activity', 'decision', 'residence', 'month'] %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

verdicts as (

    select * from {{ ref('int_submissions_verdicted') }}

),

countries as (

    select * from {{ ref('countries') }}

),

final as (

    select
        observations.submission_id || ':' || observations.sheet || '!' || observations.cell
            as observation_id,
        observations.submission_id,
        observations.reporting_country_code,
        reporting_countries.name_es as reporting_country_name_es,
        reporting_countries.name_en as reporting_country_name_en,
        observations.source,
        observations.year,
        observations.first_month,
        observations.last_month,
        observations.month,
        observations.sheet,
        observations.cell,
        observations.breakdown,
        observations.measure,
        observations.counting_unit,
        observations.flow_code,
        observations.traveller_type,
        observations.nationality_code,
        nationalities.name_es as nationality_name_es,
        nationalities.name_en as nationality_name_en,
        case
            when observations.nationality_code is null or observations.nationality_code = '_T'
                then null
            else coalesce(nullif(nationalities.region_code, ''), '_U')
        end as nationality_region_code,
        observations.country_from_code,
        origins.name_es as country_from_name_es,
        origins.name_en as country_from_name_en,
        observations.sex_code,
        observations.age_group_code,
        observations.port_code,
        observations.border_type,
        observations.permit_type_code,
        observations.activity_code,
        observations.decision_code,
        observations.residence_code,
        {%- for dimension in observation_dimensions() if dimension not in shown_dimensions %}
            observations.{{ dimension }}_code,
        {%- endfor %}
        observations.value,
        observations.value_status,
        observations.obs_flag

    from observations
    inner join verdicts
        on observations.submission_id = verdicts.submission_id
    left join countries as reporting_countries
        on observations.reporting_country_code = reporting_countries.code
    left join countries as nationalities
        on observations.nationality_code = nationalities.code
    left join countries as origins
        on observations.country_from_code = origins.code
    where verdicts.is_published and observations.cell_role = 'detail'
    {%- if new_submissions is not none %}
        and {{ submission_in(new_submissions, 'observations.submission_id') }}
    {%- endif %}

)

select * from final
