{#-
    Staging of one source's raw cells: every `<dimension>_label` column of raw.<source> is
    resolved to `<dimension>_code` through raw.label_resolutions, which `migstat build` writes
    before dbt runs (migstat/resolutions.py: every distinct label resolved once by
    migstat/codes.py, per reporting country, in the code list the spec gives the dimension).

    * A label that is NULL means the sheet does not break down by that dimension: code `_T`.
    * A label that does not resolve keeps its label and gets a NULL code (rule COD-001 reports it);
      the cell is never dropped.
    * Row labels of reported subtotal rows (cell_role = 'subtotal') that are not members of the
      dimension's code list are resolved as UN M49 regions (code list `regions`).
    * `parent_row`, `parent_label` and `row_key` (where the loader placed the row in the table's
      hierarchy) pass through; `parent_region_code` is the parent row's label as a UN M49 region
      (an "Otros" row under "Asia" is the residual of Asia).

    Labels are looked up once per distinct (submission, label) (the submission's country is
    joined to those, not to every cell), then joined back. The label
    lists read the raw table itself, not the `cells` CTE: a CTE read more than once is
    materialized by DuckDB (a copy of every raw cell in memory, spilled at tier L).

    `only_submissions` (a list of submission ids, from `new_submission_ids`): stage the cells of
    those submissions only, the filter written into every read of the raw table (the label lists
    included, which a filter on the view's output does not reach). An incremental build of
    `int_observations_unioned` stages its new submissions so, inline, instead of reading the
    views: through a view, each label list reads every cell ever loaded.

    Adding a source: its spec, `migstat dbt-sources --write` (its raw table in
    models/staging/_sources.yml) and a one-line model `stg_<source>__cells.sql` with
    `{{ stage_source_cells('<source>') }}`.
-#}
{% macro stage_source_cells(source_name, only_submissions=none) %}
{%- set relation = source('raw', source_name) -%}
{%- set dimensions = source_dimensions(source_name) -%}

with

cells as (

    select * from {{ relation }}
    {%- if only_submissions is not none %}
        where {{ submission_in(only_submissions) }}
    {%- endif %}

),

submissions as (

    select * from {{ source('raw', 'submissions') }}

),

label_resolutions as (

    select * from {{ source('raw', 'label_resolutions') }}

),

{% for dimension in dimensions %}
{{ dimension.name }}_labels as (

    select
        labels.submission_id,
        labels.label,
        members.code as member_code,
        regions.code as region_code

    from (
        select distinct
            cells.submission_id,
            cells.{{ dimension.name }}_label as label
        from {{ relation }} as cells
        where
            cells.{{ dimension.name }}_label is not null
            {%- if only_submissions is not none %}
                and {{ submission_in(only_submissions, 'cells.submission_id') }}
            {%- endif %}
    ) as labels
    left join submissions on labels.submission_id = submissions.submission_id
    left join label_resolutions as members
        on
            coalesce(submissions.country_code, '') = members.reporting_country_code
            and members.codelist = '{{ dimension.codelist }}'
            and labels.label = members.label
    left join label_resolutions as regions
        on
            coalesce(submissions.country_code, '') = regions.reporting_country_code
            and regions.codelist = 'regions'
            and labels.label = regions.label

),

{% endfor %}
parent_labels as (

    select
        labels.submission_id,
        labels.label,
        regions.code as region_code

    from (
        select distinct
            cells.submission_id,
            cells.parent_label as label
        from {{ relation }} as cells
        where
            cells.parent_label is not null
            {%- if only_submissions is not none %}
                and {{ submission_in(only_submissions, 'cells.submission_id') }}
            {%- endif %}
    ) as labels
    left join submissions on labels.submission_id = submissions.submission_id
    left join label_resolutions as regions
        on
            coalesce(submissions.country_code, '') = regions.reporting_country_code
            and regions.codelist = 'regions'
            and labels.label = regions.label

),

final as (

    select
        cells.submission_id,
        '{{ source_name }}' as source,
        cells.sheet,
        cells.cell,
        cells.row_number,
        cells.column_number,
        cells.measure,
        {%- for dimension in dimensions %}
        cells.{{ dimension.name }}_label,
        case
            when cells.{{ dimension.name }}_label is null then '_T'
            when {{ dimension.name }}_labels.member_code is not null
                then {{ dimension.name }}_labels.member_code
            when cells.cell_role = 'subtotal' then {{ dimension.name }}_labels.region_code
        end as {{ dimension.name }}_code,
        {%- endfor %}
        cells.raw_text,
        cells.value,
        cells.value_status,
        cells.cell_role,
        cells.parent_row,
        cells.parent_label,
        parent_labels.region_code as parent_region_code,
        cells.row_key

    from cells
    {%- for dimension in dimensions %}
    left join {{ dimension.name }}_labels
        on
            cells.submission_id = {{ dimension.name }}_labels.submission_id
            and cells.{{ dimension.name }}_label = {{ dimension.name }}_labels.label
    {%- endfor %}
    left join parent_labels
        on
            cells.submission_id = parent_labels.submission_id
            and cells.parent_label = parent_labels.label

)

select * from final
{% endmacro %}


{#- The dimensions of a source, read from the graph (never from the database): the
    `<dimension>_label` columns of its raw table as models/staging/_sources.yml declares them
    (generated from specs/sources by `migstat dbt-sources --write`), in table order, each with
    its code list. Empty while dbt parses (the graph is not there yet). -#}
{% macro source_dimensions(source_name) %}
{%- set dimensions = [] -%}
{%- if execute -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.raw.' ~ source_name] -%}
    {%- for column in node.columns.values() -%}
        {%- set meta = column.config.meta if column.config and column.config.meta else column.meta -%}
        {%- if meta and meta.dimension -%}
            {%- do dimensions.append({'name': meta.dimension, 'codelist': meta.codelist}) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{{ return(dimensions) }}
{% endmacro %}


{#- The distinct sets of dimensions (comma-separated, '' for none) that the cross-table groups
    of the wired sources (vars.migstat_sources) compare on, sorted; from the `cross_tables` meta of
    each raw table in models/staging/_sources.yml. -#}
{% macro cross_table_dimension_sets() %}
{%- set found = [] -%}
{%- if execute -%}
    {%- for source_name in var('migstat_sources') -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.raw.' ~ source_name] -%}
        {%- set meta = node.config.meta if node.config and node.config.meta else node.meta -%}
        {%- for group in meta.get('cross_tables', []) -%}
            {%- set key = group.dimensions | join(',') -%}
            {%- if key not in found -%}{%- do found.append(key) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}
{{ return(found | sort) }}
{% endmacro %}
