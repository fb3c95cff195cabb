{#- Materialized as a table (not a view like the rest of the folder): every rule model and mart
    reads it, and label resolution should run once per build, not once per reader. -#}
{#- Incremental: a submission's cells never change (a correction is a new submission), so each
    build adds the cells of the submissions not here yet (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    incremental_strategy=incremental_merge_strategy(),
) }}

{%- set dimensions = observation_dimensions() %}
{#- An incremental run: the submissions not here yet, read when the model runs and written as
    literals, so every scan of the raw tables skips the cells already here (a `not in` this
    table read and staged every cell ever loaded before dropping them). -#}
{%- set new_submissions = new_submission_ids(
    'select submission_id from ' ~ ref('stg_raw__submissions')) %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}
    {%- if new_submissions is not none %}
        where {{ submission_in(new_submissions) }}
    {%- endif %}

),

ports as (

    select * from {{ ref('ports') }}

),

submission_sheets as (

    select * from {{ ref('stg_raw__submission_sheets') }}

),

countries as (

    select * from {{ ref('countries') }}

),

measures as (

    select * from {{ ref('stg_raw__measures') }}

),

{#- The cells are read twice, once whole (`unioned`) and once for their keys only
    (`unioned_keys`, for the sheets' breakdowns), each through its own CTEs: DuckDB materializes
    a CTE read twice, and a copy of every cell with all its columns does not fit in memory at
    tier L (it spilled ~10 GB); reading the staged cells again costs less. #}
{%- for part in ['cells', 'keys'] %}
    {%- set whole = part == 'cells' %}
    {%- for source_name in var('migstat_sources') %}
        {%- set relation = ref('stg_' ~ source_name ~ '__cells') %}
        {%- set present = source_dimensions(source_name) | map(attribute='name') | list %}
        {{ source_name }}_{{ part }} as (

            select
                submission_id,
                sheet,
                {%- if whole %}
                    source,
                    cell,
                    row_number,
                    column_number,
                    measure,
                {%- endif %}
                {%- for dimension in dimensions %}
                    {%- if dimension in present %}
                        {{ dimension }}_label,
                        {{ dimension }}_code,
                    {%- else %}
                        cast(null as {{ text_type() }}) as {{ dimension }}_label,
                        cast(null as {{ text_type() }}) as {{ dimension }}_code,
                    {%- endif %}
                {%- endfor %}
                {%- if whole %}
                    raw_text,
                    value,
                    value_status,
                    parent_row,
                    row_key,
                {%- endif %}
                cell_role,
                parent_region_code

            {%- if new_submissions is none %}
                from {{ relation }}
            {%- else %}
                {#- The new submissions staged inline (macros/staging/stage_source_cells.sql):
                    through the view, its label lists would read every cell ever loaded. #}
                from ({{ stage_source_cells(source_name, new_submissions) }}) as staged
            {%- endif %}

        ),

    {% endfor %}
    stacked_{{ part }} as (

        {% for source_name in var('migstat_sources') %}
            select * from {{ source_name }}_{{ part }}
            {% if not loop.last %}union all{% endif %}
        {% endfor %}

    ),

    {{ 'unioned' if whole else 'unioned_keys' }} as (

        {#- Codes that depend on the table: "Nacionales" (_NAT) is the reporting country; an
            "Otros" row of a country dimension under a region row is that region's residual
            (OTH_<M49 code>) when the code lists have one. #}
        select
            {%- for dimension in dimensions %}
                stacked.{{ dimension }}_label,
                {%- if dimension in country_dimensions() %}
                    case
                        when stacked.{{ dimension }}_code = '_NAT' then submissions.country_code
                        when
                            stacked.{{ dimension }}_code = 'OTH'
                            and submission_sheets.row_dimension = '{{ dimension }}'
                            and regional_others.code is not null
                            then regional_others.code
                        else stacked.{{ dimension }}_code
                    end as {{ dimension }}_code,
                {%- else %}
                    stacked.{{ dimension }}_code,
                {%- endif %}
            {%- endfor %}
            {%- if whole %}
                stacked.source,
                stacked.cell,
                stacked.row_number,
                stacked.column_number,
                stacked.measure,
                stacked.raw_text,
                stacked.value,
                stacked.value_status,
                stacked.cell_role,
                stacked.parent_row,
                stacked.parent_region_code,
                stacked.row_key,
                submission_sheets.layout_sheet,
                submission_sheets.row_dimension,
            {%- endif %}
            stacked.submission_id,
            stacked.sheet

        from stacked_{{ part }} as stacked
        inner join submissions
            on stacked.submission_id = submissions.submission_id
        left join submission_sheets
            on
                stacked.submission_id = submission_sheets.submission_id
                and stacked.sheet = submission_sheets.sheet
        left join countries as regional_others
            on regional_others.code = 'OTH_' || stacked.parent_region_code

    ),

{%- endfor %}

sheet_breakdowns as (

    -- The dimensions a sheet breaks down by: those with more than one key in it (keys are
    -- never NULL, so min <> max says so without counting distinct values, which costs more).
    select
        submission_id,
        sheet,
        concat_ws(
            ','
            {%- for dimension in dimensions %}
                ,
                case
                    when
                        min({{ dimension_key(dimension) }})
                        <> max({{ dimension_key(dimension) }})
                        then '{{ dimension }}'
                end
            {%- endfor %}
        ) as breakdown

    from unioned_keys
    group by 1, 2

),

final as (

    select
        unioned.submission_id,
        submissions.country_code as reporting_country_code,
        unioned.source,
        submissions.reference_year as year,
        submissions.period,
        unioned.sheet,
        unioned.cell,
        unioned.row_number,
        unioned.column_number,
        sheet_breakdowns.breakdown,
        unioned.measure,
        measures.unit as counting_unit,
        unioned.cell_role,
        unioned.parent_row,
        unioned.row_key,
        unioned.layout_sheet,
        unioned.row_dimension,
        {%- for dimension in dimensions %}
            unioned.{{ dimension }}_label,
            unioned.{{ dimension }}_code,
        {%- endfor %}
        case
            when unioned.source <> 'entries_exits' then null
            when unioned.nationality_code is null or unioned.nationality_code = '_T' then null
            when unioned.nationality_code = submissions.country_code then 'NAT'
            else 'FOR'
        end as traveller_type,
        case
            when unioned.month_code between '01' and '12' and length(unioned.month_code) = 2
                then {{ try_cast('unioned.month_code', 'integer') }}
        end as month,
        ports.border_type,
        unioned.raw_text,
        unioned.value,
        unioned.value_status,
        submissions.obs_flag,
        submissions.first_month,
        submissions.last_month,
        submissions.tolerance_absolute,
        submissions.tolerance_relative

    from unioned
    inner join submissions
        on unioned.submission_id = submissions.submission_id
    inner join sheet_breakdowns
        on
            unioned.submission_id = sheet_breakdowns.submission_id
            and unioned.sheet = sheet_breakdowns.sheet
    left join measures
        on unioned.source = measures.source and unioned.measure = measures.measure
    left join ports
        on unioned.port_code = ports.port_code

)

select * from final
