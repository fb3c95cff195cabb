{#- Marts merged by key (README "Incremental builds and --full-refresh").

    An incremental `migstat build` writes `build_meta.touched_keys` (key_country_code, key_source,
    key_year: names no model's column has, so an unqualified column in a condition below always
    means the model's own) into the build file before dbt runs: the keys of the submissions this build judges (new,
    judged again) and of the submissions withdrawn or restored since the published warehouse
    (migstat/build.py, `write_touched_keys`). Only those keys can publish other rows. A mart
    built from fct_observations then deletes the rows of the keys it must recompute (pre-hook
    `delete_touched_keys`) and inserts them again from the touched keys' observations only
    (`touched_keys`), instead of aggregating every observation ever published.

    A mart row of year Y may read other years (a year-on-year change reads Y - 1): it declares
    `years_after`, the years after a touched year whose rows change with it, and reads the
    observations of `years_before` .. `years_after` around each touched year.

    A delete of every recomputed key then an append, rather than dbt's delete+insert on a
    unique key: a key whose only published submission is withdrawn has no rows left to insert,
    and delete+insert would keep its old rows. Spark builds are always full (--full-refresh):
    there every condition is `true` and nothing is deleted. -#}

{#- The build file's touched keys, or none (a full build, a plain dbt run, Spark). -#}
{% macro touched_keys_relation() -%}
    {%- if this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database, schema='build_meta', identifier='touched_keys')) }}
{%- endmacro %}

{#- A condition true for the rows of `country` and `year` that a touched key reaches: year in
    [touched year - years_before, touched year + years_after] (numbers), the touched key's
    source among `sources` (a list) or equal to the column `source`, its country equal to
    `country` (none: any country). `true` on a full build, and on an incremental run without
    the table (everything recomputed, never less). `relation`: the touched keys' table when the
    caller is not an incremental model (a data test: macro `get_where_subquery`).

    The keys are read when the model runs and written into the condition as literals
    (`country in ('GTM', 'MEX') and year in (2024, 2025)`), grouped by the years they reach: a
    correlated `exists` over the table was evaluated against every one of ~23 M fact rows at
    tier L and made a merged mart slower than rebuilding it (bench/results/L-incremental.md). -#}
{% macro touched_keys(country, year, sources=none, years_before=0, years_after=0, source=none,
                      relation=none) -%}
    {%- set touched = touched_keys_relation() if relation is none else relation -%}
    {%- if touched is none or not execute -%}
        true
    {%- else -%}
        {%- set rows = run_query(
            'select distinct key_source, key_country_code, key_year from ' ~ touched
            ~ ' where key_year is not null order by all').rows -%}
        {#- (source, country) -> the years it reaches -#}
        {%- set reach = {} -%}
        {%- for row in rows if sources is none or row[0] in sources -%}
            {%- set group = (row[0] if source is not none else '',
                             row[1] if country is not none else '') -%}
            {%- set years = reach.setdefault(group, []) -%}
            {%- for reached in range((row[2] | int) - years_before,
                                     (row[2] | int) + years_after + 1)
                if reached not in years -%}
                {%- do years.append(reached) -%}
            {%- endfor -%}
        {%- endfor -%}
        {#- (source, years) -> the countries reaching exactly those years -#}
        {%- set by_years = {} -%}
        {%- for group, years in reach | dictsort -%}
            {%- do by_years.setdefault((group[0], years | sort | join(', ')), []).append(group[1]) -%}
        {%- endfor -%}
        {%- if not by_years -%}
            false
        {%- else -%}
            (
            {%- for key, countries in by_years | dictsort %}
                {{ 'or ' if not loop.first }}(
                    {%- if source is not none %}
                    {{ source }} = {{ sql_literal(key[0]) }} and
                    {%- endif %}
                    {%- if country is not none %}
                    {{ country }} in ({% for code in countries %}{{ sql_literal(code) }}{{ ', ' if not loop.last }}{% endfor %}) and
                    {%- endif %}
                    {{ year }} in ({{ key[1] }})
                )
            {%- endfor %}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A text as an SQL string literal. -#}
{% macro sql_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{#- The warning families windowed (plausibility, cross-source, revision; the windows are
    literals since the touched keys are: bench/results/L-incremental.md): their verdicts on a
    submission read other submissions, so an incremental build judges again
    the submissions a touched key can reach and keeps the other verdicts. `submissions_to_judge(...)`: a condition on `column`
    (a submission id), true for the submissions of the raw store whose country, source and
    year a touched key reaches (arguments as `touched_keys`, applied to the submission's own
    country, source and year); `true` on a full build. The raw table is read without ref(), as
    the ledger is (macros/incremental.sql): unit tests judge their fixtures whole. -#}
{% macro submissions_to_judge(column='submission_id', any_country=false, any_source=false,
                              years_before=0, years_after=0) -%}
    {%- set submissions = none if touched_keys_relation() is none else adapter.get_relation(
        database=this.database, schema='raw', identifier='submissions') -%}
    {%- if submissions is none -%}
        true
    {%- else -%}
        {{ column }} in (
            select submissions.submission_id
            from {{ submissions }} as submissions
            where {{ touched_keys(
                none if any_country else 'upper(submissions.country_code)',
                'submissions.reference_year',
                source=none if any_source else 'submissions.source',
                years_before=years_before,
                years_after=years_after,
            ) }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a windowed warning family: in an incremental run, delete the failures of the
    submissions it judges again (arguments as `submissions_to_judge`). -#}
{% macro delete_submissions_to_judge(any_country=false, any_source=false, years_before=0,
                                     years_after=0) -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }}
        where {{ submissions_to_judge('submission_id', any_country, any_source, years_before,
                                      years_after) }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a mart merged by key: in an incremental run, delete the rows it recomputes. -#}
{% macro delete_touched_keys(sources, years_after=0, country='reporting_country_code', year='year') -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }}
        where {{ touched_keys(country, year, sources, years_after=years_after) }}
    {%- endif -%}
{%- endmacro %}

{#- The strategy of a mart merged by key: append after the pre-hook's delete (DuckDB and
    Spark both have it; Spark's builds are full anyway). -#}
{% macro mart_by_key_strategy() -%}
    {{ return('append') }}
{%- endmacro %}
