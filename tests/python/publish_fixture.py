# ruff: noqa: E501 (long SQL lines: the fixture mirrors the marts contract)
"""A small published warehouse in the shape of the marts contract, for fast publishing tests.

It stands in for ``migstat sample`` -> ``load`` -> ``build`` where a test only needs the shape of
the marts (``models/marts/<domain>/_<domain>__models.yml``): three countries, two years, every source and
every sheet of the standard layouts, built in about a second. Values are pseudo-random.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

COUNTRIES = {
    "MEX": ("México", "Mexico", "013"),
    "GTM": ("Guatemala", "Guatemala", "013"),
    "NIC": ("Nicaragua", "Nicaragua", "013"),
    "USA": ("Estados Unidos", "United States", "021"),
    "HND": ("Honduras", "Honduras", "013"),
    "VEN": ("Venezuela", "Venezuela", "005"),
    "CUB": ("Cuba", "Cuba", "029"),
    "ESP": ("España", "Spain", "039"),
    "OTH": ("Otros países", "Other countries", "_U"),
}
REPORTING = ("MEX", "GTM", "NIC")
NATIONALITIES = [c for c in COUNTRIES]
SUBREGIONS = {
    "013": ("Centroamérica", "Central America"),
    "021": ("América septentrional", "Northern America"),
    "005": ("América del Sur", "South America"),
    "029": ("Caribe", "Caribbean"),
    "039": ("Europa meridional", "Southern Europe"),
    "_U": ("No especificado", "Unspecified"),
}
AGES = {
    "Y0T17": ("0 a 17 años", "0 to 17 years", True, 1),
    "Y18T34": ("18 a 34 años", "18 to 34 years", False, 2),
    "Y35T64": ("35 a 64 años", "35 to 64 years", False, 3),
    "Y_GE65": ("65 años y más", "65 years and over", False, 4),
}
CODE_LISTS = [
    ("sex", "M", "Hombres", "Men", 1),
    ("sex", "F", "Mujeres", "Women", 2),
    ("sex", "_U", "No especificado", "Not specified", 3),
    ("sex", "_T", "Total", "Total", 4),
    ("flows", "ENT", "Entradas", "Entries", 1),
    ("flows", "EXI", "Salidas", "Exits", 2),
    ("border_types", "AIR", "Aérea", "Air", 1),
    ("border_types", "LAND", "Terrestre", "Land", 2),
    ("border_types", "SEA", "Marítima", "Sea", 3),
    ("permit_types", "TMP", "Residencia temporal", "Temporary residence", 1),
    ("permit_types", "PRM", "Residencia permanente", "Permanent residence", 2),
    ("permit_types", "HUM", "Razones humanitarias", "Humanitarian reasons", 3),
    ("permit_types", "_T", "Total", "Total", 7),
    (
        "asylum_decisions",
        "REC",
        "Reconocimiento de la condición de refugiado",
        "Refugee status recognised",
        1,
    ),
    ("asylum_decisions", "CPR", "Protección complementaria", "Complementary protection", 2),
    ("asylum_decisions", "REJ", "Rechazada", "Rejected", 3),
    ("asylum_decisions", "CLO", "Cerrada o abandonada", "Closed or abandoned", 4),
    ("asylum_decisions", "_T", "Total", "Total", 6),
    (
        "economic_activities",
        "A",
        "Agricultura, ganadería, silvicultura y pesca",
        "Agriculture, forestry and fishing",
        1,
    ),
    ("economic_activities", "C", "Industrias manufactureras", "Manufacturing", 3),
    (
        "economic_activities",
        "I",
        "Alojamiento y servicios de comidas",
        "Accommodation and food service activities",
        9,
    ),
    *[
        ("months", f"{m:02d}", es, en, m)
        for m, (es, en) in enumerate(
            [
                ("Enero", "January"),
                ("Febrero", "February"),
                ("Marzo", "March"),
                ("Abril", "April"),
                ("Mayo", "May"),
                ("Junio", "June"),
                ("Julio", "July"),
                ("Agosto", "August"),
                ("Septiembre", "September"),
                ("Octubre", "October"),
                ("Noviembre", "November"),
                ("Diciembre", "December"),
            ],
            1,
        )
    ],
]
SOURCES = {
    "entries_exits": (
        "Entradas y salidas internacionales",
        "International entries and exits",
        {"movements": "events"},
    ),
    "residence_permits": (
        "Permisos de residencia otorgados",
        "Residence permits granted",
        {"permits": "permits"},
    ),
    "work_permits": (
        "Permisos de trabajo otorgados",
        "Work permits granted",
        {"permits": "permits"},
    ),
    "asylum": (
        "Solicitudes y resoluciones de asilo y refugio",
        "Asylum applications and decisions",
        {"applications": "applications", "decisions": "decisions"},
    ),
    "returns": ("Nacionales retornados", "Returned nationals", {"returnees": "persons"}),
    "irregular_foreigners": (
        "Extranjeros presentados ante la autoridad migratoria",
        "Foreigners presented to the migration authority",
        {"presentations": "events"},
    ),
}
MONTHS = [f"{m}" for m in range(1, 13)]
SEXES = ["M", "F"]
# source, sheet, measure, fixed dimensions, broken-down dimensions (spec order) -> members
SHEETS: list[tuple[str, str, str, dict[str, str], dict[str, list[str]]]] = [
    (
        "entries_exits",
        "ENTRADAS_NAC",
        "movements",
        {"flow": "ENT"},
        {"nationality": NATIONALITIES, "sex": SEXES, "month": MONTHS},
    ),
    (
        "entries_exits",
        "SALIDAS_NAC",
        "movements",
        {"flow": "EXI"},
        {"nationality": NATIONALITIES, "sex": SEXES, "month": MONTHS},
    ),
    (
        "entries_exits",
        "ENTRADAS_PUERTO",
        "movements",
        {"flow": "ENT"},
        {"month": MONTHS, "port": ["AIR", "LAND", "SEA"]},
    ),
    (
        "entries_exits",
        "SALIDAS_PUERTO",
        "movements",
        {"flow": "EXI"},
        {"month": MONTHS, "port": ["AIR", "LAND", "SEA"]},
    ),
    (
        "entries_exits",
        "ENTRADAS_EDAD",
        "movements",
        {"flow": "ENT"},
        {"sex": SEXES, "age_group": list(AGES)},
    ),
    (
        "residence_permits",
        "POR_NACIONALIDAD",
        "permits",
        {},
        {"permit_type": ["TMP", "PRM", "HUM"], "nationality": NATIONALITIES, "sex": SEXES},
    ),
    (
        "residence_permits",
        "POR_MES",
        "permits",
        {},
        {"permit_type": ["TMP", "PRM", "HUM"], "sex": SEXES, "month": MONTHS},
    ),
    ("residence_permits", "POR_EDAD", "permits", {}, {"sex": SEXES, "age_group": list(AGES)}),
    (
        "work_permits",
        "POR_NACIONALIDAD",
        "permits",
        {},
        {"nationality": NATIONALITIES, "sex": SEXES},
    ),
    ("work_permits", "POR_ACTIVIDAD", "permits", {}, {"sex": SEXES, "activity": ["A", "C", "I"]}),
    ("work_permits", "POR_MES", "permits", {}, {"sex": SEXES, "month": MONTHS}),
    ("asylum", "SOLICITUDES_NAC", "applications", {}, {"nationality": NATIONALITIES, "sex": SEXES}),
    ("asylum", "SOLICITUDES_MES", "applications", {}, {"sex": SEXES, "month": MONTHS}),
    ("asylum", "SOLICITUDES_EDAD", "applications", {}, {"sex": SEXES, "age_group": list(AGES)}),
    (
        "asylum",
        "RESOLUCIONES",
        "decisions",
        {},
        {"nationality": NATIONALITIES, "decision": ["REC", "CPR", "REJ", "CLO"]},
    ),
    (
        "returns",
        "POR_PAIS",
        "returnees",
        {},
        {"country_from": ["USA", "MEX", "OTH"], "month": MONTHS},
    ),
    ("returns", "POR_MES_SEXO", "returnees", {}, {"sex": SEXES, "month": MONTHS}),
    ("returns", "POR_EDAD_SEXO", "returnees", {}, {"sex": SEXES, "age_group": list(AGES)}),
    (
        "irregular_foreigners",
        "POR_NACIONALIDAD",
        "presentations",
        {},
        {"nationality": NATIONALITIES, "month": MONTHS},
    ),
    (
        "irregular_foreigners",
        "POR_NAC_SEXO",
        "presentations",
        {},
        {"nationality": NATIONALITIES, "sex": SEXES},
    ),
    (
        "irregular_foreigners",
        "POR_EDAD_SEXO",
        "presentations",
        {},
        {"sex": SEXES, "age_group": list(AGES)},
    ),
]
SCALE = {
    "movements": 5000,
    "permits": 40,
    "applications": 60,
    "decisions": 30,
    "returnees": 300,
    "presentations": 400,
}
YEARS = (2023, 2024)
DIMENSIONS = (
    "flow",
    "nationality",
    "country_from",
    "sex",
    "age_group",
    "port",
    "permit_type",
    "activity",
    "decision",
    "month",
)


def _sheet_sql(
    source: str,
    sheet: str,
    measure: str,
    fixed: dict[str, str],
    dims: dict[str, list[str]],
    years: tuple[int, ...] = YEARS,
) -> str:
    unit = SOURCES[source][2][measure]
    columns = {}
    for dim in DIMENSIONS:
        if dim in dims:
            columns[dim] = f"d_{dim}"
        elif dim in fixed:
            columns[dim] = f"'{fixed[dim]}'"
        elif dim == "month" or dim == "flow":
            columns[dim] = "null"
        else:
            columns[dim] = "'_T'"
    joins = ", ".join(f"(select unnest({members!r}) as d_{dim})" for dim, members in dims.items())
    flag = (
        "case when r.code = 'GTM' and y.year = 2024 and s.source = 'irregular_foreigners' then 'b'"
        " when r.code = 'NIC' and s.source = 'returns' then 'e'"
        " when y.year = 2024 then 'p' end"
    )
    return f"""
        select r.code as reporting_country_code, y.year, s.source, '{sheet}' as sheet,
               '{",".join(dims)}' as breakdown, '{measure}' as measure, '{unit}' as counting_unit,
               {columns["flow"]} as flow_code, {columns["nationality"]} as nationality_code,
               {columns["country_from"]} as country_from_code, {columns["sex"]} as sex_code,
               {columns["age_group"]} as age_group_code, {columns["port"]} as border_type,
               {columns["permit_type"]} as permit_type_code, {columns["activity"]} as activity_code,
               {columns["decision"]} as decision_code, ({columns["month"]})::integer as month,
               {flag} as obs_flag
        from (select unnest({list(REPORTING)!r}) as code) as r,
             (select unnest({list(years)!r}) as year) as y,
             (select '{source}' as source) as s, {joins}"""


MARTS = {
    "movements_yearly": """
        with base as (
            select reporting_country_code, year, flow_code, nationality_code = reporting_country_code as nat,
                   sex_code, value, obs_flag
            from marts.fct_observations where source = 'entries_exits' and sheet like '%_NAC'
        ),
        agg as (
            select reporting_country_code, year,
                sum(value) filter (where flow_code = 'ENT' and nat) as entries_nationals,
                sum(value) filter (where flow_code = 'ENT' and not nat) as entries_foreigners,
                sum(value) filter (where flow_code = 'EXI' and nat) as exits_nationals,
                sum(value) filter (where flow_code = 'EXI' and not nat) as exits_foreigners,
                sum(value) filter (where flow_code = 'ENT' and sex_code = 'F')
                    / sum(value) filter (where flow_code = 'ENT') as entries_women_share,
                sum(value) filter (where flow_code = 'EXI' and sex_code = 'F')
                    / sum(value) filter (where flow_code = 'EXI') as exits_women_share,
                any_value(obs_flag) as obs_flag
            from base group by all
        )
        select a.reporting_country_code, c.name_es as reporting_country_name_es,
               c.name_en as reporting_country_name_en, a.year,
               entries_nationals, entries_foreigners, entries_nationals + entries_foreigners as entries_total,
               exits_nationals, exits_foreigners, exits_nationals + exits_foreigners as exits_total,
               entries_nationals + entries_foreigners - exits_nationals - exits_foreigners as net_balance,
               entries_nationals - exits_nationals as net_balance_nationals,
               entries_foreigners - exits_foreigners as net_balance_foreigners,
               entries_women_share, exits_women_share, 'events' as counting_unit, obs_flag
        from agg as a join marts.dim_countries as c on c.country_code = a.reporting_country_code""",
    "movements_monthly": """
        select o.reporting_country_code, o.year, o.month, m.name_es as month_name_es,
               m.name_en as month_name_en, o.flow_code, sum(o.value) as movements,
               'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o
        join codes.code_lists as m on m.codelist = 'months' and m.code = lpad(o.month::varchar, 2, '0')
        where o.source = 'entries_exits' and o.sheet like '%_NAC' group by all""",
    "movements_by_nationality": """
        select o.reporting_country_code, o.year, o.flow_code, o.nationality_code,
               any_value(o.nationality_name_es) as nationality_name_es,
               any_value(o.nationality_name_en) as nationality_name_en,
               case when o.nationality_code = o.reporting_country_code then 'NAT' else 'FOR' end as traveller_type,
               sum(o.value) as movements, 'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o
        where o.source = 'entries_exits' and o.sheet like '%_NAC' group by all""",
    "movements_by_region": """
        select o.reporting_country_code, o.year, o.flow_code, c.subregion_code as region_code,
               any_value(c.subregion_name_es) as region_name_es, any_value(c.subregion_name_en) as region_name_en,
               sum(o.value) as movements, 'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o join marts.dim_countries as c on c.country_code = o.nationality_code
        where o.source = 'entries_exits' and o.sheet like '%_NAC'
            and o.nationality_code <> o.reporting_country_code group by all""",
    "movements_by_border_type": """
        select o.reporting_country_code, o.year, o.flow_code, o.border_type,
               any_value(b.name_es) as border_type_name_es, any_value(b.name_en) as border_type_name_en,
               sum(o.value) as movements, 'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o
        join codes.code_lists as b on b.codelist = 'border_types' and b.code = o.border_type
        where o.source = 'entries_exits' and o.sheet like '%_PUERTO' group by all""",
    "movements_by_age_group": """
        select o.reporting_country_code, o.year, o.flow_code, o.age_group_code,
               any_value(a.name_es) as age_group_name_es, any_value(a.name_en) as age_group_name_en,
               any_value(a.is_minor) as is_minor, sum(o.value) as movements,
               'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o join marts.dim_age_groups as a using (age_group_code)
        where o.source = 'entries_exits' and o.sheet = 'ENTRADAS_EDAD' group by all""",
    "permits_by_type_nationality": """
        select o.reporting_country_code, o.year, o.source, o.permit_type_code,
               any_value(p.name_es) as permit_type_name_es, any_value(p.name_en) as permit_type_name_en,
               o.nationality_code, any_value(o.nationality_name_es) as nationality_name_es,
               any_value(o.nationality_name_en) as nationality_name_en, sum(o.value) as permits,
               'permits' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o
        left join codes.code_lists as p on p.codelist = 'permit_types' and p.code = o.permit_type_code
        where o.source in ('residence_permits', 'work_permits') and o.sheet = 'POR_NACIONALIDAD'
        group by all""",
    "asylum_by_nationality": """
        select reporting_country_code, year, nationality_code,
               any_value(nationality_name_es) as nationality_name_es,
               any_value(nationality_name_en) as nationality_name_en,
               sum(value) filter (where measure = 'applications') as applications,
               sum(value) filter (where measure = 'decisions') as decisions_total,
               sum(value) filter (where decision_code = 'REC') as decisions_recognised,
               sum(value) filter (where decision_code = 'CPR') as decisions_complementary,
               sum(value) filter (where decision_code = 'REJ') as decisions_rejected,
               sum(value) filter (where decision_code = 'CLO') as decisions_closed,
               'applications' as applications_counting_unit, 'decisions' as decisions_counting_unit,
               any_value(obs_flag) as obs_flag
        from marts.fct_observations
        where source = 'asylum' and sheet in ('SOLICITUDES_NAC', 'RESOLUCIONES') group by all""",
    "asylum_yearly": """
        select a.reporting_country_code, c.name_es as reporting_country_name_es,
               c.name_en as reporting_country_name_en, a.year, sum(applications) as applications,
               sum(decisions_total) as decisions_total, sum(decisions_recognised) as decisions_recognised,
               sum(decisions_complementary) as decisions_complementary,
               sum(decisions_rejected) as decisions_rejected, sum(decisions_closed) as decisions_closed,
               sum(decisions_recognised) / (sum(decisions_recognised) + sum(decisions_complementary)
                   + sum(decisions_rejected)) as recognition_rate,
               'applications' as applications_counting_unit, 'decisions' as decisions_counting_unit,
               any_value(a.obs_flag) as obs_flag
        from marts.asylum_by_nationality as a join marts.dim_countries as c on c.country_code = a.reporting_country_code
        group by all""",
    "returns_by_origin_sex_age": """
        select o.reporting_country_code, o.year,
               case o.sheet when 'POR_PAIS' then 'country_from' when 'POR_MES_SEXO' then 'sex'
                    else 'age_group_sex' end as breakdown,
               o.country_from_code, any_value(o.country_from_name_es) as country_from_name_es,
               any_value(o.country_from_name_en) as country_from_name_en, o.sex_code, o.age_group_code,
               any_value(a.name_es) as age_group_name_es, any_value(a.name_en) as age_group_name_en,
               sum(o.value) as returnees, 'persons' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o left join marts.dim_age_groups as a using (age_group_code)
        where o.source = 'returns' group by all""",
    "irregular_foreigners_by_nationality_sex_age": """
        select o.reporting_country_code, o.year,
               case o.sheet when 'POR_NAC_SEXO' then 'nationality_sex' else 'age_group_sex' end as breakdown,
               o.nationality_code, any_value(o.nationality_name_es) as nationality_name_es,
               any_value(o.nationality_name_en) as nationality_name_en, o.sex_code, o.age_group_code,
               any_value(a.name_es) as age_group_name_es, any_value(a.name_en) as age_group_name_en,
               sum(o.value) as presentations, 'events' as counting_unit, any_value(o.obs_flag) as obs_flag
        from marts.fct_observations as o left join marts.dim_age_groups as a using (age_group_code)
        where o.source = 'irregular_foreigners' and o.sheet in ('POR_NAC_SEXO', 'POR_EDAD_SEXO')
        group by all""",
    "indicators": """
        with base as (
            select null::integer as month, null as flow_code, null as nationality_code,
                   null as region_code, null as border_type, null as age_group_code,
                   null as sex_code, null as permit_type_code, null as country_from_code
        )
        select 'entries_total' as indicator_id, 'movements' as theme, 'Entradas totales' as name_es, 'Total entries' as name_en,
               y.reporting_country_code, y.year, base.* replace ('ENT' as flow_code),
               y.entries_total as value, 'count' as unit, 'events' as counting_unit, y.obs_flag
        from marts.movements_yearly as y, base
        union all by name
        select 'entries_women_share' as indicator_id, 'movements' as theme, 'Proporción de mujeres en las entradas' as name_es,
               'Women''s share of entries' as name_en,
               y.reporting_country_code, y.year, base.* replace ('ENT' as flow_code),
               y.entries_women_share as value, 'share' as unit, 'events' as counting_unit, y.obs_flag
        from marts.movements_yearly as y, base
        union all by name
        select 'entries_share_by_border_type' as indicator_id, 'movements' as theme,
               'Entradas por tipo de frontera (proporción)' as name_es,
               'Entries by border type (share)' as name_en, b.reporting_country_code, b.year,
               base.* replace ('ENT' as flow_code, b.border_type as border_type),
               b.movements / sum(b.movements) over (partition by b.reporting_country_code, b.year) as value,
               'share' as unit, 'events' as counting_unit, b.obs_flag
        from marts.movements_by_border_type as b, base where b.flow_code = 'ENT'
        union all by name
        select 'asylum_applications' as indicator_id, 'asylum' as theme, 'Solicitudes de asilo' as name_es,
               'Asylum applications' as name_en, a.reporting_country_code, a.year, base.*,
               a.applications as value, 'count' as unit, 'applications' as counting_unit, a.obs_flag
        from marts.asylum_yearly as a, base
        union all by name
        select 'asylum_recognition_rate' as indicator_id, 'asylum' as theme, 'Tasa de reconocimiento de asilo' as name_es,
               'Asylum recognition rate' as name_en, a.reporting_country_code, a.year, base.*,
               a.recognition_rate as value, 'rate' as unit, 'decisions' as counting_unit, a.obs_flag
        from marts.asylum_yearly as a, base
        union all by name
        select 'returned_nationals' as indicator_id, 'returns' as theme, 'Nacionales retornados' as name_es,
               'Returned nationals' as name_en, r.reporting_country_code, r.year, base.*,
               sum(r.returnees) as value, 'count' as unit, 'persons' as counting_unit,
               any_value(r.obs_flag) as obs_flag
        from marts.returns_by_origin_sex_age as r, base where r.breakdown = 'sex'
        group by all""",
}


def build_fixture_warehouse(path: Path, years: tuple[int, ...] = YEARS) -> Path:
    """Write a published warehouse with every mart the products read; return its path.
    ``years``: the reference years of the observations (2023 and 2024 unless told)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema codes")
    con.execute(
        "create table codes.code_lists (codelist varchar, code varchar, name_es varchar,"
        " name_en varchar, sort_order integer, parent_code varchar)"
    )
    con.executemany("insert into codes.code_lists values (?, ?, ?, ?, ?, null)", CODE_LISTS)
    con.execute(
        "create table codes.m49_regions (region_code varchar, name_es varchar, name_en varchar,"
        " level varchar, parent_code varchar)"
    )
    con.executemany(
        "insert into codes.m49_regions values (?, ?, ?, 'subregion', '019')",
        [[k, *v] for k, v in SUBREGIONS.items()],
    )
    con.execute(
        "create table marts.dim_countries (country_code varchar, name_es varchar, name_en varchar,"
        " region_code varchar, region_name_es varchar, region_name_en varchar,"
        " subregion_code varchar, subregion_name_es varchar, subregion_name_en varchar,"
        " is_reporting_country boolean)"
    )
    con.executemany(
        "insert into marts.dim_countries values (?, ?, ?, '019', 'América', 'Americas', ?, ?, ?, ?)",
        [
            [k, es, en, sub, *SUBREGIONS[sub], k in REPORTING]
            for k, (es, en, sub) in COUNTRIES.items()
        ],
    )
    con.execute(
        "create table marts.dim_age_groups (age_group_code varchar, name_es varchar,"
        " name_en varchar, is_minor boolean, sort_order integer)"
    )
    con.executemany(
        "insert into marts.dim_age_groups values (?, ?, ?, ?, ?)",
        [[k, *v] for k, v in AGES.items()],
    )
    con.execute(
        "create table marts.dim_sources (source varchar, measure varchar, counting_unit varchar,"
        " source_title_es varchar, source_title_en varchar)"
    )
    con.executemany(
        "insert into marts.dim_sources values (?, ?, ?, ?, ?)",
        [
            [s, m, u, es, en]
            for s, (es, en, measures) in SOURCES.items()
            for m, u in measures.items()
        ],
    )
    cells = " union all by name ".join(_sheet_sql(*sheet, years=years) for sheet in SHEETS)
    scale = " ".join(f"when '{m}' then {v}" for m, v in SCALE.items())
    con.execute(
        f"""create table marts.fct_observations as
        with cells as ({cells})
        select cells.*,
               rc.name_es as reporting_country_name_es, rc.name_en as reporting_country_name_en,
               nat.name_es as nationality_name_es, nat.name_en as nationality_name_en,
               cf.name_es as country_from_name_es, cf.name_en as country_from_name_en,
               (hash(cells.reporting_country_code, cells.year, cells.sheet, cells.flow_code, cells.nationality_code, cells.country_from_code, cells.sex_code, cells.age_group_code, cells.border_type, cells.permit_type_code, cells.activity_code, cells.decision_code, cells.month) % (case measure {scale} end + 1))::double as value
        from cells
        join marts.dim_countries as rc on rc.country_code = cells.reporting_country_code
        left join marts.dim_countries as nat on nat.country_code = cells.nationality_code
        left join marts.dim_countries as cf on cf.country_code = cells.country_from_code"""
    )
    for name, sql in MARTS.items():
        con.execute(f"create table marts.{name} as {sql}")
    con.close()
    return path
