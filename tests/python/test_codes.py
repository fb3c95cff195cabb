"""Code lists: seeds, label resolution in Python and SQL, and `migstat codes`."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migstat.codes import (
    Resolver,
    candidates,
    default_resolver,
    display_label,
    normalize,
)

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
MIGSTAT = REPO / ".venv" / "bin" / "migstat"

# How offices really write nationalities and countries (published tables, templates filled by
# hand), with the code each must resolve to.
COUNTRY_CORPUS: dict[str, str] = {
    "ESTADOS UNIDOS DE AMERICA": "USA",
    "Estados Unidos de América": "USA",
    "Estados Unidos 1": "USA",
    "Estados Unidos*": "USA",
    "Estados Unidos (1)": "USA",
    "EE.UU.": "USA",
    "EE. UU.": "USA",
    "EEUU": "USA",
    "EUA": "USA",
    "USA": "USA",
    "Canadá2": "CAN",
    "Canadá²": "CAN",
    "CANADA": "CAN",
    "México (1)": "MEX",
    "Mexico": "MEX",
    "Dominicana, Rep.": "DOM",
    "Rep. Dominicana": "DOM",
    "República Dominicana": "DOM",
    "REPUBLICA DOMINICANA": "DOM",
    "Dominica": "DMA",
    "Caimán, Islas (R. Unido)": "CYM",
    "Islas Caimán": "CYM",
    "Turcas y Caicos, Islas (R. Unido)": "TCA",
    "Anguila (R. Unido)": "AIA",
    "Montserrat (R. Unido)": "MSR",
    "Bermudas (R. Unido)": "BMU",
    "Aruba (P. Bajos)": "ABW",
    "Curazao (P. Bajos)": "CUW",
    "Guadalupe (Francia)": "GLP",
    "Martinica (Francia)": "MTQ",
    "Puerto Rico": "PRI",
    "Puerto Rico (EE.UU.)": "PRI",
    "Islas Vírgenes (EE.UU.)": "VIR",
    "Islas Vírgenes Británicas": "VGB",
    "  Guatemala  ": "GTM",
    "GUATEMALA": "GTM",
    "El  Salvador": "SLV",
    "Honduras ": "HND",
    "Nicaragua": "NIC",
    "Costa Rica": "CRI",
    "Panamá": "PAN",
    "Belice": "BLZ",
    "Haití": "HTI",
    "Cuba": "CUB",
    "Jamaica": "JAM",
    "Trinidad y Tobago": "TTO",
    "Colombia": "COL",
    "Perú": "PER",
    "Brasil": "BRA",
    "Suazilandia": "SWZ",
    "Holanda": "NLD",
    "Países Bajos": "NLD",
    "Birmania": "MMR",
    "Zaire": "COD",
    "Escocia": "GBR",
    "Inglaterra": "GBR",
    "Gales": "GBR",
    "Irlanda del Norte": "GBR",
    "Reino Unido": "GBR",
    "Reino Unido de Gran Bretaña e Irlanda del Norte": "GBR",
    "Apátridas": "XXA",
    "Apátrida": "XXA",
    "Sin nacionalidad": "XXA",
    "No especificado": "XXX",
    "Ignorado": "XXX",
    "Desconocido": "XXX",
    "Sin especificar": "XXX",
    "Otros": "OTH",
    "Otros países": "OTH",
    "Resto del mundo": "OTH",
    "Total": "_T",
    "TOTAL GENERAL": "_T",
    "Corea del Sur": "KOR",
    "Corea, República de": "KOR",
    "Corea, Rep.": "KOR",
    "Corea del Norte": "PRK",
    "Venezuela (República Bolivariana de)": "VEN",
    "Venezuela": "VEN",
    "Bolivia (Estado Plurinacional de)": "BOL",
    "Viet Nam": "VNM",
    "Vietnam": "VNM",
    "Côte d'Ivoire": "CIV",
    "Côte d’Ivoire": "CIV",
    "Costa de Marfil": "CIV",
    "China": "CHN",
    "India": "IND",
    "Rusia": "RUS",
    "Federación de Rusia": "RUS",
    "Alemania": "DEU",
    "España": "ESP",
    "Francia": "FRA",
    "Italia": "ITA",
    "Japón": "JPN",
    "Australia": "AUS",
    "Congo (Kinshasa)": "COD",
    "República Democrática del Congo": "COD",
    "Irán (República Islámica del)": "IRN",
    "Chequia": "CZE",
    "República Checa": "CZE",
    "Guinea-Bissau": "GNB",
    "Bahamas, Las": "BHS",
}

OTHER_CORPUS: list[tuple[str, str, str]] = [
    ("sex", "Hombres", "M"),
    ("sex", "HOMBRES", "M"),
    ("sex", "Masculino", "M"),
    ("sex", "Men", "M"),
    ("sex", "Male", "M"),
    ("sex", "Mujeres", "F"),
    ("sex", "Femenino", "F"),
    ("sex", "Women", "F"),
    ("sex", "Female", "F"),
    ("sex", "Total", "_T"),
    ("sex", "Ambos sexos", "_T"),
    ("months", "Ene", "01"),
    ("months", "ENE.", "01"),
    ("months", "Enero", "01"),
    ("months", "Jan", "01"),
    ("months", "January", "01"),
    ("months", "1", "01"),
    ("months", "01", "01"),
    ("months", "Septiembre", "09"),
    ("months", "Setiembre", "09"),
    ("months", "Dic.", "12"),
    ("months", "Total anual", "_T"),
    ("age_groups", "0-4", "Y0T4"),
    ("age_groups", "0 a 4", "Y0T4"),
    ("age_groups", "0 a 4 años", "Y0T4"),
    ("age_groups", "De 5 a 9 años", "Y5T9"),
    ("age_groups", "18-24", "Y18T24"),
    ("age_groups", "18 a 24 años", "Y18T24"),
    ("age_groups", "65 y más", "Y_GE65"),
    ("age_groups", "65+", "Y_GE65"),
    ("age_groups", "Menores de 18", "Y0T17"),
    ("age_groups", "Menores acompañados", "Y0T17A"),
    ("age_groups", "Menores no acompañados", "Y0T17U"),
    ("age_groups", "No especificado", "_U"),
    ("regions", "América del Norte", "021"),
    ("regions", "Centroamérica", "013"),
    ("regions", "América Central", "013"),
    ("regions", "Caribe", "029"),
    ("regions", "Sudamérica", "005"),
    ("regions", "América del Sur", "005"),
    ("regions", "Europa", "150"),
    ("regions", "Asia", "142"),
    ("regions", "África", "002"),
    ("regions", "Oceanía", "009"),
    ("flows", "Entradas", "ENT"),
    ("flows", "Salidas", "EXI"),
    ("permit_types", "Residencia temporal", "TMP"),
    ("permit_types", "Permanente", "PRM"),
    ("economic_activities", "Construcción", "F"),
    ("economic_activities", "T", "T"),
    ("economic_activities", "Industrias manufactureras", "C"),
    ("asylum_decisions", "Reconocidos", "REC"),
    ("asylum_decisions", "Rechazadas", "REJ"),
    ("border_types", "Aérea", "AIR"),
    ("border_types", "Terrestre", "LAND"),
    ("observation_flags", "Preliminar", "p"),
    ("traveller_types", "Extranjeros", "FOR"),
]

# Labels that must stay unresolved: ambiguous, or not a country.
UNRESOLVED: list[tuple[str, str]] = [
    ("sex", "M"),
    ("countries", "Islas Vírgenes"),
    ("countries", "Narnia"),
    ("countries", ""),
]


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return default_resolver()


# --- Python resolution --------------------------------------------------------------------


@pytest.mark.parametrize(("label", "code"), sorted(COUNTRY_CORPUS.items()))
def test_country_corpus(resolver: Resolver, label: str, code: str) -> None:
    assert resolver.resolve("countries", label) == code


@pytest.mark.parametrize(("codelist", "label", "code"), OTHER_CORPUS)
def test_other_corpus(resolver: Resolver, codelist: str, label: str, code: str) -> None:
    assert resolver.resolve(codelist, label) == code


@pytest.mark.parametrize(("codelist", "label"), UNRESOLVED)
def test_unresolved(resolver: Resolver, codelist: str, label: str) -> None:
    assert resolver.resolve(codelist, label) is None


def test_candidates_keep_numbers_first() -> None:
    assert candidates("0-4")[0] == "0 4"
    assert candidates("01")[0] == "01"
    assert candidates("Estados Unidos 1") == [
        "estados unidos 1",
        "estados unidos 1",
        "estados unidos",
        "estados unidos",
    ]
    assert normalize(" EE.UU. ") == "ee uu"


def test_every_alias_resolves_to_its_code(resolver: Resolver) -> None:
    for row in read_seed("code_aliases.csv"):
        assert normalize(row["alias"]) == row["alias"], row
        assert resolver.resolve(row["codelist"], row["alias"]) == row["code"], row


def test_codes_resolve_to_themselves(resolver: Resolver) -> None:
    for row in read_seed("countries.csv"):
        assert resolver.resolve("countries", row["code"]) == row["code"]
    for row in read_seed("code_lists.csv"):
        if (row["codelist"], row["code"]) == ("sex", "M"):
            continue  # "M" is ambiguous (Mujeres / Male) by design
        assert resolver.resolve(row["codelist"], row["code"]) == row["code"], row


def test_display_label() -> None:
    assert display_label("countries", "DOM") == "República Dominicana"
    assert display_label("countries", "KOR") == "Corea del Sur"
    assert display_label("countries", "USA", "en") == "United States"
    assert display_label("sex", "F") == "Mujeres"
    assert display_label("months", "01", "en") == "January"
    assert display_label("regions", "013") == "Centroamérica"
    assert display_label("age_groups", "Y0T4") == "0-4 años"
    assert display_label("countries", "ZZZ") == "ZZZ"


# --- Seeds --------------------------------------------------------------------------------


def test_seeds_reproduce_byte_for_byte() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_seeds", REPO / "scripts" / "build_seeds.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_seeds"] = module
    spec.loader.exec_module(module)
    for name, text in module.build().items():
        assert (SEEDS / name).read_text(encoding="utf-8") == text, (
            f"seeds/{name} is stale: run .venv/bin/python scripts/build_seeds.py"
        )


def test_every_country_has_region_and_subregion() -> None:
    regions = {row["region_code"]: row for row in read_seed("m49_regions.csv")}
    rows = read_seed("countries.csv")
    assert len(rows) >= 249
    for row in rows:
        assert row["region_code"] in regions, row
        assert row["subregion_code"] in regions, row
        assert row["name_es"] and row["name_en"], row
        if row["is_country"] == "true" and row["code"] != "ATA":
            assert regions[row["region_code"]]["level"] == "region", row
            assert regions[row["subregion_code"]]["parent_code"] == row["region_code"], row
    special = {row["code"] for row in rows if row["is_country"] == "false"}
    regional_others = {code for code in special if code.startswith("OTH_")}
    assert special - regional_others == {"XXA", "XXX", "OTH", "_NAT", "_T"}
    assert {f"OTH_{code}" for code in ("019", "013", "029", "142", "150")} <= regional_others


def test_no_alias_maps_to_two_codes() -> None:
    codes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_seed("code_aliases.csv"):
        codes[(row["codelist"], row["alias"])].add(row["code"])
    assert all(len(found) == 1 for found in codes.values())


def test_every_codelist_has_total() -> None:
    members: dict[str, set[str]] = defaultdict(set)
    for row in read_seed("code_lists.csv"):
        members[row["codelist"]].add(row["code"])
    assert set(members) >= {
        "sex",
        "months",
        "flows",
        "age_groups",
        "permit_types",
        "economic_activities",
        "asylum_decisions",
        "border_types",
        "transport_modes",
        "observation_flags",
        "traveller_types",
    }
    assert all("_T" in codes for codes in members.values())
    assert members["economic_activities"] >= set("ABCDEFGHIJKLMNOPQRSTU")
    assert members["months"] >= {f"{m:02d}" for m in range(1, 13)}


# --- SQL agrees with Python ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sql_resolve():
    macros = jinja2.Environment().from_string((REPO / "macros" / "resolve_label.sql").read_text())
    module = macros.module
    con = duckdb.connect()
    con.execute(
        "create table code_aliases as select * from "
        f"read_csv('{SEEDS / 'code_aliases.csv'}', all_varchar = true)"
    )
    con.execute("create table labels (codelist varchar, label varchar)")
    resolve_sql = module.resolve_label("label", "__codelist__", "code_aliases").replace(
        "'__codelist__'", "l.codelist"
    )
    query = (
        f"select label, codelist, {module.normalize_label('label')} as alias, "
        f"{module.label_candidates('label')} as candidates, {resolve_sql} as code from labels as l"
    )

    def run(pairs: list[tuple[str, str]]) -> list[tuple[str, str, str, list[str], str | None]]:
        con.execute("delete from labels")
        con.executemany("insert into labels values (?, ?)", pairs)
        return con.execute(query).fetchall()

    return run


def assert_same(resolver: Resolver, rows: list[tuple]) -> None:
    for label, codelist, alias, sql_candidates, code in rows:
        assert alias == normalize(label), label
        assert sql_candidates == candidates(label), label
        assert code == resolver.resolve(codelist, label), (codelist, label)


def test_sql_matches_python_on_aliases_and_corpus(resolver: Resolver, sql_resolve) -> None:
    pairs = [(row["codelist"], row["alias"]) for row in read_seed("code_aliases.csv")]
    pairs += [("countries", label) for label in COUNTRY_CORPUS]
    pairs += [(codelist, label) for codelist, label, _ in OTHER_CORPUS]
    pairs += UNRESOLVED
    rows = sql_resolve(pairs)
    assert len(rows) == len(pairs)
    assert_same(resolver, rows)


LABEL_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZáéíóúüñÁÉÍÓÚÑçôèê0123456789")
    + list(" \t\u00a0.,;:-_()[]*/'’\"+#&¹²³")
)
KNOWN_LABELS = st.sampled_from([*COUNTRY_CORPUS, *(label for _, label, _ in OTHER_CORPUS)])
LABELS = st.one_of(
    st.text(LABEL_ALPHABET, max_size=30),
    st.builds(
        lambda base, suffix: base + suffix,
        KNOWN_LABELS,
        st.sampled_from(["", " 1", "2", " (3)", "*", " **", "  ", " (R. Unido)", "¹", " 12", "."]),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["countries", "sex", "age_groups", "months"]), LABELS)))
def test_sql_matches_python_on_generated_labels(resolver: Resolver, sql_resolve, pairs) -> None:
    if pairs:
        assert_same(resolver, sql_resolve(pairs))


# --- CLI ----------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MIGSTAT), "codes", *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_cli_resolve_text() -> None:
    result = run_cli("resolve", "Dominicana, Rep.", "EE.UU.", "Narnia")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Dominicana, Rep.\tDOM\tDominican Republic",
        "EE.UU.\tUSA\tUnited States",
        "Narnia\t?\t",
    ]


def test_cli_resolve_json() -> None:
    result = run_cli("resolve", "--codelist", "sex", "--json", "Mujeres", "M")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"label": "Mujeres", "code": "F", "name_en": "Women", "name_es": "Mujeres"},
        {"label": "M", "code": None, "name_en": None, "name_es": None},
    ]


def test_cli_list() -> None:
    result = run_cli("list", "flows")
    assert result.returncode == 0, result.stderr
    assert "ENT\tEntradas\tEntries" in result.stdout.splitlines()
    assert run_cli("list", "no_such_list").returncode == 2


def test_resolution_rate_on_corpus(resolver: Resolver) -> None:
    """Measured, not just asserted: every corpus label resolves (printed with -s)."""
    resolved = sum(resolver.resolve("countries", label) is not None for label in COUNTRY_CORPUS)
    print(f"country corpus: {resolved}/{len(COUNTRY_CORPUS)} resolved", file=sys.stderr)
    assert resolved == len(COUNTRY_CORPUS)


def test_macro_docs_are_plain_text() -> None:
    """dbt renders descriptions as Jinja: a macro call in one breaks every dbt command."""
    docs = yaml.safe_load((REPO / "macros" / "_macros.yml").read_text(encoding="utf-8"))
    for macro in docs["macros"]:
        texts = [macro["description"], *(arg["description"] for arg in macro.get("arguments", []))]
        assert all(isinstance(text, str) and "{{" not in text for text in texts), macro["name"]
