{#-
    additivity: every reported total or subtotal equals the sum of the detail cells that share
    its other coordinates, along every dimension, generically:

    * ADD-001: a cell whose key along dimension d is `_T` (a total along d) is compared with the
      sum of the cells of the same sheet that differ from it only along d (d's members; region
      subtotal rows excluded). Applied along every dimension, each total is checked against
      its immediate children: months -> year, sexes -> total, countries -> grand total,
      row totals and column totals alike. Checks that involve a text or 'n.d.' cell are
      skipped (VAL-003 / VAL-004 report those).
    * ADD-002: a region subtotal row (UN M49 code) equals the sum of the countries of the same
      sheet that belong to the region (M49 region or sub-region).
    * ADD-003: a suspect cell: a total along one dimension and a total along another both fail
      by the same amount, and the cell where their row and column cross would fix both.
-#}
{{ config(materialized='table') }}

{%- set dimensions = observation_dimensions() %}
{%- set tolerance = rule_tolerance('ADD-001', 'absolute', 0.5) %}
{%- set region_tolerance = rule_tolerance('ADD-002', 'absolute', 0.5) %}

with

observations as (

    select * from {{ ref('int_observations_unioned') }}

),

countries as (

    select * from {{ ref('countries') }}

),

country_regions as (

    {#- each country once under its M49 region and once under its sub-region #}
    select
        code,
        region_code
    from countries
    union all
    select
        code,
        subregion_code as region_code
    from countries

),

cells as (

    select
        submission_id,
        sheet,
        cell,
        row_number,
        column_number,
        value,
        value_status in ('missing_marker', 'text') as is_unusable,
        {%- for dimension in dimensions %}
            {{ dimension_key(dimension) }} as key_{{ dimension }},
        {%- endfor %}
        {%- for dimension in country_dimensions() %}
            {{ dimension }}_label,
        {%- endfor %}
        measure

    from observations

),

{% for dimension in dimensions %}
    {%- set others = dimensions | reject('equalto', dimension) | list %}
    children_along_{{ dimension }} as (

        select
            submission_id,
            sheet,
            {%- for other in others %}
                key_{{ other }},
            {%- endfor %}
            sum(value) as detail_sum,
            sum(case when is_unusable then 1 else 0 end) as unusable_count

        from cells
        where
            key_{{ dimension }} not in ('_T', '-')
            {%- if dimension in country_dimensions() %}
                and not {{ is_region_key('key_' ~ dimension) }}
            {%- endif %}
        group by all

    ),

    totals_along_{{ dimension }} as (

        select
            totals.*,
            '{{ dimension }}' as dimension,
            children.detail_sum

        from cells as totals
        inner join children_along_{{ dimension }} as children
            on
                totals.submission_id = children.submission_id
                and totals.sheet = children.sheet
                {%- for other in others %}
                    and totals.key_{{ other }} = children.key_{{ other }}
                {%- endfor %}
        where
            totals.key_{{ dimension }} = '_T'
            and totals.value is not null
            and not totals.is_unusable
            and children.unusable_count = 0
            and abs(totals.value - children.detail_sum) > {{ tolerance }}

    ),

{% endfor %}
total_failures as (

    {% for dimension in dimensions %}
        select * from totals_along_{{ dimension }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{% for dimension in country_dimensions() %}
    {%- set others = dimensions | reject('equalto', dimension) | list %}
    region_members_{{ dimension }} as (

        select
            cells.submission_id,
            cells.sheet,
            country_regions.region_code,
            {%- for other in others %}
                cells.key_{{ other }},
            {%- endfor %}
            sum(cells.value) as detail_sum,
            sum(case when cells.is_unusable then 1 else 0 end) as unusable_count

        from cells
        inner join country_regions
            on cells.key_{{ dimension }} = country_regions.code
        group by all

    ),

    subtotals_along_{{ dimension }} as (

        select
            subtotals.*,
            '{{ dimension }}' as dimension,
            subtotals.{{ dimension }}_label as label,
            coalesce(members.detail_sum, 0) as detail_sum

        from cells as subtotals
        left join region_members_{{ dimension }} as members
            on
                subtotals.submission_id = members.submission_id
                and subtotals.sheet = members.sheet
                and subtotals.key_{{ dimension }} = members.region_code
                {%- for other in others %}
                    and subtotals.key_{{ other }} = members.key_{{ other }}
                {%- endfor %}
        where
            {{ is_region_key('subtotals.key_' ~ dimension) }}
            and subtotals.value is not null
            and not subtotals.is_unusable
            and coalesce(members.unusable_count, 0) = 0
            and abs(subtotals.value - coalesce(members.detail_sum, 0)) > {{ region_tolerance }}

    ),

{% endfor %}
suspect_cells as (

    {%- set pairs = [] %}
    {%- for first in dimensions %}
        {%- for second in dimensions[loop.index:] %}
            {%- do pairs.append((first, second)) %}
        {%- endfor %}
    {%- endfor %}
    {% for first, second in pairs %}
        {%- set others = dimensions | reject('equalto', first) | reject('equalto', second) | list %}
        select distinct
            suspect.submission_id,
            suspect.sheet,
            suspect.cell,
            suspect.row_number,
            suspect.column_number,
            suspect.value,
            suspect.value + (along_first.value - along_first.detail_sum) as corrected_value,
            along_first.cell || ', ' || along_second.cell as total_cells

        from total_failures as along_first
        inner join total_failures as along_second
            on
                along_first.submission_id = along_second.submission_id
                and along_first.sheet = along_second.sheet
                and along_first.dimension = '{{ first }}'
                and along_second.dimension = '{{ second }}'
                and along_first.key_{{ second }} <> '_T'
                and along_second.key_{{ first }} <> '_T'
                and abs(
                    (along_first.value - along_first.detail_sum)
                    - (along_second.value - along_second.detail_sum)
                ) <= {{ tolerance }}
                {%- for other in others %}
                    and along_first.key_{{ other }} = along_second.key_{{ other }}
                {%- endfor %}
        inner join cells as suspect
            on
                along_first.submission_id = suspect.submission_id
                and along_first.sheet = suspect.sheet
                and suspect.key_{{ first }} = along_second.key_{{ first }}
                and suspect.key_{{ second }} = along_first.key_{{ second }}
                {%- for other in others %}
                    and suspect.key_{{ other }} = along_first.key_{{ other }}
                {%- endfor %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        submission_id,
        'ADD-001' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('detail_sum') }} as expected,
        {{ format_number('value') }} as found,
        cast(null as varchar) as label,
        dimension,
        cast(null as varchar) as detail

    from total_failures

    union all

    {% for dimension in country_dimensions() %}
        select
            submission_id,
            'ADD-002' as rule_id,
            sheet,
            cell,
            row_number,
            column_number,
            {{ format_number('detail_sum') }} as expected,
            {{ format_number('value') }} as found,
            label,
            dimension,
            cast(null as varchar) as detail

        from subtotals_along_{{ dimension }}

        union all

    {% endfor %}
    select
        submission_id,
        'ADD-003' as rule_id,
        sheet,
        cell,
        row_number,
        column_number,
        {{ format_number('corrected_value') }} as expected,
        {{ format_number('value') }} as found,
        cast(null as varchar) as label,
        cast(null as varchar) as dimension,
        'totals ' || total_cells as detail

    from (
        select
            *,
            row_number() over (
                partition by submission_id, sheet, cell order by total_cells
            ) as pair_number
        from suspect_cells
    ) as ranked
    where pair_number = 1

)

select * from final
