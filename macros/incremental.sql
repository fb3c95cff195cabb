{#- Incremental builds (README "Incremental builds and --full-refresh").

    `migstat build` starts an incremental build from the tables of the published warehouse
    (same project and specs, else it rebuilds everything with --full-refresh). The blocking
    rule models judge only the submissions the ledger `int_submissions_judged` does not list;
    a verdict once given is kept. -#}

{#- The strategy of the incremental models: delete the rows of the keys in the new batch,
    then insert the batch (DuckDB). Spark runs are always full builds; `append` only keeps
    its incremental materialization valid there. -#}
{% macro incremental_merge_strategy() -%}
    {{ return('delete+insert' if target.type == 'duckdb' else 'append') }}
{%- endmacro %}

{#- `where <column> in (<the submissions not judged yet>)` in an incremental run of a rule
    model, nothing otherwise (a full build judges every submission). The ids are read when the
    model runs (`unjudged_submission_ids`) and written as literals, so DuckDB applies the filter
    inside each scan and skips the row groups the zone maps rule out (the former `not in (select
    ... from the ledger)` read every cell ever stored before the anti-join); `false` when every
    submission is judged. -#}
{% macro unjudged_submissions_only(column='submission_id') -%}
    {%- set unjudged = unjudged_submission_ids() -%}
    {%- if unjudged is not none -%}
        where {{ submission_in(unjudged, column) }}
    {%- endif -%}
{%- endmacro %}

{#- The submissions of raw.submissions that the ledger `int_submissions_judged` does not list,
    as a sorted list of ids, in an incremental run of a rule model; none otherwise (a full
    build, a warehouse without the ledger yet, dbt parsing; unit tests have no `this`). The
    ledger is read without ref(): it is written after the verdicts, downstream of every rule
    model. -#}
{% macro unjudged_submission_ids() -%}
    {%- if this is none or not is_incremental() or not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set ledger = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_submissions_judged'
    ) -%}
    {%- if ledger is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(new_submission_ids(
        'select submission_id from ' ~ source('raw', 'submissions'), present=ledger)) }}
{%- endmacro %}

{#- `where <column> not in (<submissions this model holds>)` in an incremental run. -#}
{% macro submissions_not_in_this(column='submission_id') -%}
    {%- if this is not none and is_incremental() -%}
        where {{ column }} not in (select present.submission_id from {{ this }} as present)
    {%- endif -%}
{%- endmacro %}

{#- Rules whose verdict depends on the build's date, not only on the submission: STR-006 (a
    future period) fails today and passes once the period has come. A submission failing one
    of them is not written to the ledger `int_submissions_judged`, so every build judges it
    again (as a full build would) until it passes; any other verdict is kept. -#}
{% macro date_dependent_rules() -%}
    {{ return(['STR-006']) }}
{%- endmacro %}

{#- The submissions among `candidates` (SQL selecting a `submission_id` column) that `present`
    (a relation with a `submission_id` column; this model when none) does not hold yet: a
    sorted list of ids read when the model runs (an incremental run), none otherwise (a full
    build, dbt parsing). A model writes them into its conditions as literals (`submission_in`):
    DuckDB applies `submission_id in (...)` inside each table scan and skips the row groups the
    zone maps rule out, where `not in (select ... from this)` reads every row ever stored
    (and, through the staging views, stages every cell) before the anti-join. -#}
{% macro new_submission_ids(candidates, present=none) -%}
    {%- if this is none or not is_incremental() or not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        'select distinct candidates.submission_id from (' ~ candidates ~ ') as candidates'
        ~ ' where candidates.submission_id not in (select present.submission_id from '
        ~ (present if present is not none else this) ~ ' as present) order by 1').rows -%}
    {{ return(rows | map(attribute=0) | map('int') | list) }}
{%- endmacro %}

{#- A condition on `column` for a list of submission ids from `new_submission_ids`: `true` for
    none (a full build), `false` for no id. -#}
{% macro submission_in(ids, column='submission_id') -%}
    {%- if ids is none -%}
        true
    {%- elif ids | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({{ ids | join(', ') }})
    {%- endif -%}
{%- endmacro %}
