"""Code lists: seeds, label resolution (aliases, variants, fuzzy), user code files, the
build-time resolution table and `migstat codes`."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
import yaml
from fixtures.label_tables import write_label_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migstat.codes import (
    LabelMatch,
    Resolver,
    build_resolver,
    candidates,
    default_resolver,
    display_label,
    normalize,
)
from migstat.resolutions import write_label_resolutions

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


# Development examples of every construct the resolver handles beyond the alias table, written
# as publications of the region write them: (label, code). Each resolves by aliases and their
# variants alone (method alias, no fuzzy match).
CONSTRUCTS: dict[str, list[tuple[str, str]]] = {
    "inverted": [
        ("Marianas del Norte, Islas", "MNP"),
        ("Dominicana, Rep.", "DOM"),
        ("Tuvalu, Rep.", "TUV"),
        ("Corea, República de", "KOR"),
        ("Wallis y Futuna, Islas", "WLF"),
        ("Salomón, Islas", "SLB"),
        ("Vaticano, Ciudad del", "VAT"),
        ("Congo, Rep. Dem. del", "COD"),
        ("Congo, República del", "COG"),
        ("Irán, República Islámica del", "IRN"),
        ("Países Bajos, Reino de los", "NLD"),
        ("Unidos, Estados", "USA"),
    ],
    "bracketed": [
        ("Yibuti (Djibouti)", "DJI"),
        ("Malvinas, Islas (Falkland)", "FLK"),
        ("Myanmar (Birmania)", "MMR"),
        ("Eswatini (Suazilandia)", "SWZ"),
        ("Timor-Leste (Timor Oriental)", "TLS"),
        ("Cabo Verde (Cape Verde)", "CPV"),
        ("Corea (Sur)", "KOR"),
        ("Irlanda (Eire)", "IRL"),
        ("Congo (Zaire)", "COD"),
        ("Estados Unidos (EUA)", "USA"),
    ],
    "abbreviations": [
        ("Rep. Centroafricana", "CAF"),
        ("Corea, Rep. Pop. Dem.", "PRK"),
        ("Rep. Dem. del Congo", "COD"),
        ("Rep. Checa", "CZE"),
        ("Is. Salomón", "SLB"),
        ("Is. Feroe", "FRO"),
        ("Terr. Palestinos", "PSE"),
        ("Micronesia, Estados Fed. de", "FSM"),
        ("Sta. Lucía", "LCA"),
        ("Sto. Tomé y Príncipe", "STP"),
        ("St. Kitts y Nevis", "KNA"),
        ("San Vicente y las Granadinas", "VCT"),
        ("Emir. Árabes Unidos", "ARE"),
        ("Rep. Árabe Siria", "SYR"),
        ("Rep. de Moldova", "MDA"),
        ("Terr. Británico del Océano Índico", "IOT"),
    ],
    "spelling": [
        ("Brunei", "BRN"),
        ("Brunéi Darussalam", "BRN"),
        ("BRUNEI DARUSSALAM", "BRN"),
        ("Kazajistán", "KAZ"),
        ("Belarús", "BLR"),
        ("Arabia Saudí", "SAU"),
        ("Arabia Saudita", "SAU"),
        ("Rumania", "ROU"),
        ("Sahara Occidental", "ESH"),
        ("Bosnia-Herzegovina", "BIH"),
        ("Timor Oriental", "TLS"),
    ],
    "case_spaces_footnotes": [
        ("REPUBLICA DOMINICANA", "DOM"),
        ("  Guatemala", "GTM"),
        ("Costa  Rica", "CRI"),
        ("PANAMA", "PAN"),
        ("Canadá 2", "CAN"),
        ("Kosovo 5", "XKX"),
        ("Francia*", "FRA"),
        ("México (1)", "MEX"),
        ("Estados Unidos 1/", "USA"),
        ("Canadá a/", "CAN"),
        ("Guatemala/", "GTM"),
        ("- Honduras", "HND"),
        ("1. México", "MEX"),
        ("484 México", "MEX"),
        ("a) Canadá", "CAN"),
    ],
    "alternatives": [
        ("Yibuti / Djibouti", "DJI"),
        ("Esuatini/Suazilandia", "SWZ"),
        ("Serbia / Montenegro", "SCG"),
    ],
    "english_and_world_bank": [
        ("Congo, Dem. Rep.", "COD"),
        ("Egypt, Arab Rep.", "EGY"),
        ("Micronesia, Fed. Sts.", "FSM"),
        ("Korea, Rep.", "KOR"),
        ("Slovak Republic", "SVK"),
        ("Bahamas, The", "BHS"),
        ("Hong Kong SAR, China", "HKG"),
        ("St. Maarten", "SXM"),
        ("Confederación Suiza", "CHE"),
        ("Gran Ducado de Luxemburgo", "LUX"),
        ("Macao SAR", "MAC"),
        ("Ex Checoslovaquia", "CSK"),
    ],
    "qualifiers": [
        ("Caimán, Islas (R. Unido)", "CYM"),
        ("Anguila (R. Unido)", "AIA"),
        ("Guadalupe (Francia)", "GLP"),
        ("Aruba (P. Bajos)", "ABW"),
        ("Guam (EE.UU.)", "GUM"),
        ("Groenlandia (Dinamarca)", "GRL"),
    ],
    "historic": [
        ("Zaire", "COD"),
        ("Dahomey", "BEN"),
        ("Alto Volta", "BFA"),
        ("Ceilán", "LKA"),
        ("Birmania", "MMR"),
        ("Siam", "THA"),
        ("Rhodesia", "ZWE"),
        ("Rodesia del Sur", "ZWE"),
        ("Nuevas Hébridas", "VUT"),
        ("Kampuchea", "KHM"),
        ("Honduras Británica", "BLZ"),
        ("Guayana Holandesa", "SUR"),
        ("Abisinia", "ETH"),
        ("Samoa Occidental", "WSM"),
        ("Jamahiriya Árabe Libia", "LBY"),
    ],
    "demonyms": [
        ("Hondureños", "HND"),
        ("SALVADOREÑAS", "SLV"),
        ("Nicaragüenses", "NIC"),
        ("Estadounidense", "USA"),
        ("Franceses", "FRA"),
        ("Marroquíes", "MAR"),
        ("Alemanas", "DEU"),
        ("Españoles", "ESP"),
    ],
    "dissolved": [
        ("Checoslovaquia", "CSK"),
        ("URSS", "SUN"),
        ("Unión Soviética", "SUN"),
        ("Yugoslavia", "YUG"),
        ("Alemania Oriental", "DDR"),
        ("República Democrática Alemana", "DDR"),
        ("Serbia y Montenegro", "SCG"),
        ("Antillas Neerlandesas", "ANT"),
    ],
}
CONSTRUCT_CASES = [
    (kind, label, code) for kind, cases in CONSTRUCTS.items() for label, code in cases
]

# Misspellings that only the fuzzy step resolves (method fuzzy, with a score).
FUZZY: list[tuple[str, str]] = [
    ("Bahréin", "BHR"),
    ("Guatamala", "GTM"),
    ("Venezuella", "VEN"),
    ("Filipnas", "PHL"),
    ("Argentna", "ARG"),
    ("Kazakstán", "KAZ"),
    ("Rep. Democrática del Co", "COD"),  # cut by the column width
]

# Labels that must not resolve: ambiguous between codes, or nothing like any code.
AMBIGUOUS = ["Nigera", "Islas Vírgenes"]
NOT_A_CODE = ["Narnia", "Xyz (Francia)", "Subtotal parcial"]


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
    assert candidates("0-4") == ["0 4"]
    assert candidates("01") == ["01"]
    assert candidates("Estados Unidos 1") == ["estados unidos 1", "estados unidos"]
    assert normalize(" EE.UU. ") == "ee uu"


@pytest.mark.parametrize(("kind", "label", "code"), CONSTRUCT_CASES)
def test_constructs_resolve_by_alias(resolver: Resolver, kind: str, label: str, code: str) -> None:
    assert resolver.resolve("countries", label) == code, kind
    assert resolver.match("countries", label) == LabelMatch(code, "alias", None, [])


@pytest.mark.parametrize(("label", "code"), FUZZY)
def test_misspellings_resolve_by_fuzzy_match_with_a_score(
    resolver: Resolver, label: str, code: str
) -> None:
    assert resolver.resolve("countries", label) is None  # resolve() stays alias-only
    match = resolver.match("countries", label)
    assert (match.code, match.method) == (code, "fuzzy")
    assert match.score is not None and resolver.settings.threshold <= match.score < 100
    assert match.suggestions[0][:2] == (code, resolver.name("countries", code))
    assert len(match.suggestions) == 3


@pytest.mark.parametrize("label", AMBIGUOUS)
def test_ambiguous_labels_resolve_to_nothing(resolver: Resolver, label: str) -> None:
    match = resolver.match("countries", label)
    assert match.code is None
    assert match.method in ("ambiguous", "none")
    assert len(match.suggestions) == 3


def test_close_runner_up_makes_a_match_ambiguous(resolver: Resolver) -> None:
    match = resolver.match("countries", "Nigera")
    assert match.method == "ambiguous"
    assert {code for code, _, _ in match.suggestions[:2]} == {"NGA", "NER"}


@pytest.mark.parametrize("label", NOT_A_CODE)
def test_labels_like_no_code_resolve_to_nothing(resolver: Resolver, label: str) -> None:
    match = resolver.match("countries", label)
    assert (match.code, match.method) == (None, "none")
    assert match.score is not None and match.score < resolver.settings.threshold


LABEL_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZáéíóúüñÁÉÍÓÚÑçôèê0123456789")
    + list(" \t\u00a0.,;:-_()[]*/'’\"+#&¹²³")
)
KNOWN_LABELS = st.sampled_from([*COUNTRY_CORPUS, *(label for _, label, _ in CONSTRUCT_CASES)])
LABELS = st.one_of(
    st.text(LABEL_ALPHABET, max_size=30),
    st.builds(
        lambda base, suffix: base + suffix,
        KNOWN_LABELS,
        st.sampled_from(["", " 1", "2", " (3)", "*", " **", "  ", " (R. Unido)", "¹", ",", "."]),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["countries", "sex", "age_groups", "regions", "ports"]), LABELS)
def test_any_label_gets_a_consistent_answer(resolver: Resolver, codelist: str, label: str) -> None:
    match = resolver.match(codelist, label, scope="MEX" if codelist == "ports" else None)
    assert match.method in ("alias", "fuzzy", "ambiguous", "none")
    assert (match.code is not None) == (match.method in ("alias", "fuzzy"))
    if match.code is not None:
        assert match.code in resolver.members[codelist] or match.code in ("_T", "_U")
    if match.method == "alias":
        assert match.score is None
    else:
        assert len(match.suggestions) <= 3
        scores = [score for _, _, score in match.suggestions]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("label", "code"),
    [("Total Asia", "142"), ("Subtotal de Europa", "150"), ("América Total", "019")],
)
def test_region_subtotal_labels(resolver: Resolver, label: str, code: str) -> None:
    assert resolver.resolve("regions", label) == code
    assert resolver.match("countries", label).code is None


def test_demonyms_match_only_as_written(resolver: Resolver) -> None:
    assert resolver.resolve("countries", "Turcas") == "TUR"
    assert resolver.resolve("countries", "Islas Turcas") is None


def test_a_slash_between_two_codes_is_not_an_alternative(resolver: Resolver) -> None:
    assert resolver.resolve("countries", "Guatemala / Honduras") is None


def test_a_bracket_naming_the_administering_country_is_not_the_code(resolver: Resolver) -> None:
    assert resolver.resolve("countries", "Xyz (Francia)") is None
    assert resolver.resolve("countries", "Yibuti (Djibouti)") == "DJI"


def test_numbers_never_resolve_by_fuzzy_match(resolver: Resolver) -> None:
    assert resolver.match("age_groups", "0-44").code is None
    assert resolver.match("age_groups", "De 5 a 99 años").code is None


def test_ports_resolve_per_reporting_country(resolver: Resolver) -> None:
    assert resolver.match("ports", "Otros", scope="MEX").code == "MEX-OTH"
    assert resolver.match("ports", "Otros", scope="GTM").code == "GTM-OTH"
    assert resolver.resolve("ports", "Otros") is None  # no reporting country: which one?
    assert resolver.match("ports", "Aerop. Int. La Aurora", scope="GTM").code == "GTM-GUA"
    assert resolver.match("ports", "La Aurora, A.I.", scope="GTM").code == "GTM-GUA"
    assert resolver.match("ports", "Aerop. Int. La Aurora", scope="MEX").code is None
    assert resolver.match("ports", "Cancún, A.I.", scope="MEX").code == "MEX-CUN"
    assert resolver.match("ports", "Total", scope="MEX").code == "_T"
    other = resolver.member("ports", "MEX-OTH")
    assert other and (other.name_es, other.name_en) == (
        "Otros puntos de entrada",
        "Other ports of entry",
    )


def write_overlay(root: Path) -> Path:
    specs = root / "specs"
    (specs / "codes").mkdir(parents=True)
    (specs / "countries").mkdir()
    (specs / "codes" / "aliases.yml").write_text(
        "aliases:\n  DOM: [Quisqueya]\n  CAN: ['Dominio del Canadá']\n"
        "codelists:\n  regions:\n    '029': [Antillas mayores y menores]\n",
        encoding="utf-8",
    )
    (specs / "codes" / "resolution.yml").write_text("fuzzy: {threshold: 95}\n", encoding="utf-8")
    (specs / "countries" / "MEX.yml").write_text(
        "code: MEX\nports:\n"
        "  - {code: MEX-TAP, name: Aeropuerto Internacional de Tapachula, border_type: AIR,\n"
        "     aliases: ['Tapachula, A.I.', Tapachula Aeropuerto]}\n",
        encoding="utf-8",
    )
    return specs


def test_user_code_files_extend_the_shipped_seeds(tmp_path: Path) -> None:
    resolver = build_resolver(write_overlay(tmp_path))
    assert resolver.resolve("countries", "Quisqueya") == "DOM"
    assert resolver.resolve("countries", "Canadá, Dominio del") == "CAN"
    assert resolver.resolve("regions", "Antillas mayores y menores") == "029"
    assert resolver.match("ports", "Tapachula, A.I.", scope="MEX").code == "MEX-TAP"
    assert resolver.match("ports", "TAPACHULA AEROPUERTO", scope="MEX").code == "MEX-TAP"
    assert resolver.match("ports", "Tapachula, A.I.", scope="GTM").code is None
    assert resolver.match("ports", "Otros", scope="MEX").code == "MEX-OTH"
    assert resolver.settings.threshold == 95
    assert resolver.match("countries", "Guatamala").method == "none"  # 89 < 95
    assert default_resolver().resolve("countries", "Quisqueya") is None


def test_label_resolutions_table(tmp_path: Path) -> None:
    """The table `migstat build` writes: distinct labels only, per reporting country, in the
    dimension's code list and in regions, parent labels in regions, user files included."""
    database = tmp_path / "landing.duckdb"
    with duckdb.connect(str(database)) as con:
        write_label_tables(con)
        con.execute(
            "insert into raw.entries_exits values "
            "(1, 'Quisqueya', 'Otros', 'Caribe', 1), (1, 'Quisqueya', 'Tapachula, A.I.', null, 2), "
            "(1, 'Bahréin', null, null, 3), (2, 'Narnia', 'Otros', 'Antillas mayores y menores', 4)"
        )
        written = write_label_resolutions(con, build_resolver(write_overlay(tmp_path)))
        rows = {
            (country, codelist, label): (code, method, score, suggestions)
            for country, codelist, label, code, method, score, suggestions in con.execute(
                "select * from raw.label_resolutions"
            ).fetchall()
        }
    assert written == len(rows)
    assert rows[("MEX", "countries", "Quisqueya")] == ("DOM", "alias", None, None)
    assert rows[("MEX", "ports", "Otros")][:2] == ("MEX-OTH", "alias")
    assert rows[("GTM", "ports", "Otros")][:2] == ("GTM-OTH", "alias")
    assert rows[("MEX", "ports", "Tapachula, A.I.")][:2] == ("MEX-TAP", "alias")
    assert rows[("MEX", "regions", "Caribe")][:2] == ("029", "alias")
    assert rows[("GTM", "regions", "Antillas mayores y menores")][:2] == ("029", "alias")
    # threshold 95 in the user's resolution.yml: Bahréin (92) is suggested, not resolved
    code, method, score, suggestions = rows[("MEX", "countries", "Bahréin")]
    assert (code, method) == (None, "none") and 90 < score < 95
    assert suggestions.startswith("BHR Baréin 92; ")
    code, method, _, suggestions = rows[("GTM", "countries", "Narnia")]
    assert (code, method) == (None, "none") and suggestions.count(";") == 2
    assert ("MEX", "regions", "Otros") in rows  # every label also in regions (subtotal rows)
    assert ("MEX", "countries", "Otros") not in rows
    assert len([key for key in rows if key[1] == "countries"]) == 3  # distinct labels only


def test_every_alias_resolves_to_its_code(resolver: Resolver) -> None:
    for row in read_seed("code_aliases.csv"):
        assert normalize(row["alias"]) == row["alias"], row
        scope = row["scope"] or None
        assert resolver.resolve(row["codelist"], row["alias"], scope) == row["code"], row


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
    codes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in read_seed("code_aliases.csv"):
        codes[(row["codelist"], row["scope"], row["alias"])].add(row["code"])
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


# --- CLI ----------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MIGSTAT), "codes", *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_cli_resolve_table() -> None:
    result = run_cli("resolve", "Dominicana, Rep.", "Bahréin", "Narnia")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    dom = next(line for line in lines if "Dominicana, Rep." in line)
    assert "DOM" in dom and "República Dominicana" in dom and "alias" in dom
    bhr = next(line for line in lines if "Bahréin" in line)
    assert "BHR" in bhr and "fuzzy" in bhr and "92" in bhr
    narnia = next(line for line in lines if "Narnia" in line)
    assert "?" in narnia and "none" in narnia and "ARM Armenia 77" in narnia


def test_cli_resolve_json(tmp_path: Path) -> None:
    result = run_cli("resolve", "--codelist", "sex", "--json", "Mujeres", "M")
    assert result.returncode == 0, result.stderr
    women, m = json.loads(result.stdout)
    assert women == {
        "label": "Mujeres",
        "code": "F",
        "method": "alias",
        "score": None,
        "name_es": "Mujeres",
        "name_en": "Women",
        "suggestions": [],
    }
    assert (m["code"], m["method"]) == (None, "none")  # "M": Mujeres or Male?
    write_overlay(tmp_path)
    env = {**os.environ, "MIGSTAT_HOME": str(tmp_path)}
    ports = subprocess.run(
        [
            *(str(MIGSTAT), "codes", "resolve", "--codelist", "ports", "--country", "MEX"),
            *("--json", "Tapachula, A.I.", "Otros"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )
    assert ports.returncode == 0, ports.stderr
    assert [item["code"] for item in json.loads(ports.stdout)] == ["MEX-TAP", "MEX-OTH"]


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


# --- Held-out corpus ------------------------------------------------------------------------

HELD_OUT = REPO / "tests" / "data" / "nationality_spellings.csv"


def test_held_out_corpus_resolves_at_99_percent_and_almost_never_wrongly(
    resolver: Resolver,
) -> None:
    """An independent corpus of real-world spellings (written without looking at the resolver):
    at least 99 % resolve to the expected code (aliases and fuzzy step), at most 0.5 % to a
    wrong one (a wrong code is worse than none). The shares print with -s."""
    with HELD_OUT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = [(row["label"], row["expected_code"]) for row in rows]
    alias = [resolver.resolve("countries", label) for label, _ in found]
    matched = [resolver.match("countries", label).code for label, _ in found]
    total = len(found)
    for title, codes in (("aliases only", alias), ("aliases + fuzzy", matched)):
        correct = sum(code == expected for code, (_, expected) in zip(codes, found, strict=True))
        wrong = sum(
            code not in (None, expected) for code, (_, expected) in zip(codes, found, strict=True)
        )
        print(
            f"held-out corpus, {title}: {correct}/{total} correct ({100 * correct / total:.1f} %),"
            f" {wrong} wrong ({100 * wrong / total:.1f} %)",
            file=sys.stderr,
        )
    misses = [
        (label, expected, code)
        for code, (label, expected) in zip(matched, found, strict=True)
        if code != expected
    ]
    wrong = [miss for miss in misses if miss[2] is not None]
    assert (total - len(misses)) / total >= 0.99, misses
    assert len(wrong) / total <= 0.005, wrong
