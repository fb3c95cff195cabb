"""Generate the code-list seeds in ``seeds/`` from maintained libraries and ``specs/codes/``.

    .venv/bin/python scripts/build_seeds.py           # write seeds/*.csv
    .venv/bin/python scripts/build_seeds.py --check   # exit 1 if a seed differs from its source

Sources: pycountry (ISO 3166-1 codes, English names, Spanish names through its gettext
catalogues), babel (CLDR territory and month names in Spanish and English), the curated files in
``specs/codes/`` (UN M49 membership, special codes, aliases, small code lists) and the ports of
``specs/countries/*.yml``. The output is deterministic: re-running it reproduces the committed
seeds byte for byte (tests/python/test_codes.py checks this).
"""

from __future__ import annotations

import argparse
import csv
import gettext
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
import yaml
from babel import Locale, localedata

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from migstat.codes import (  # noqa: E402
    GLOBAL,
    OTHER_PORTS,
    OTHER_PORTS_ALIASES,
    OTHER_PORTS_NAMES,
    normalize,
    port_name_keys,
)
from migstat.specs import CountrySpec  # noqa: E402

CODES_DIR = REPO_ROOT / "specs" / "codes"
COUNTRIES_DIR = REPO_ROOT / "specs" / "countries"
SEEDS_DIR = REPO_ROOT / "seeds"

TOTAL = "_T"
UNKNOWN = "_U"
TOTAL_NAMES = {"es": "Total", "en": "Total"}
UNKNOWN_NAMES = {"es": "No especificado", "en": "Not specified"}
TOTAL_ALIASES = [
    "Total",
    "Total general",
    "Totales",
    "Suma total",
    "Gran total",
    "Todos",
    "Todas",
    "Grand total",
    "All",
]
UNKNOWN_ALIASES = [
    "No especificado",
    "No especificada",
    "No especificados",
    "Ignorado",
    "Ignorada",
    "Desconocido",
    "Desconocida",
    "Sin especificar",
    "Sin información",
    "No declarado",
    "No consta",
    "No indicado",
    "N.E.",
    "Unknown",
    "Not specified",
    "Unspecified",
    "Not stated",
]

# Alias kinds, strongest first: when two kinds give one alias different codes, the stronger wins;
# two different codes of the same strength make the alias ambiguous, and it is dropped.
KIND_RANK = {
    "code": 0,
    "curated": 1,
    "historic": 2,
    "iso_name": 2,
    "cldr_name": 2,
    "name": 2,
    "port_name": 2,
    "special_code": 3,
    "inversion": 4,
    "abbreviation": 4,
    "short_name": 5,
    "demonym": 3,
}

# Leading words that offices move behind the name: "República Dominicana" -> "Dominicana, Rep.".
INVERTED_PREFIXES = [
    "republica democratica del",
    "republica democratica de",
    "republica democratica",
    "republica popular democratica de",
    "republica de",
    "republica del",
    "republica",
    "islas",
    "isla de",
    "isla",
    "reino de",
    "reino",
    "estado de",
    "estado",
    "federacion de",
    "principado de",
    "gran ducado de",
    "las",
    "los",
    "la",
    "el",
]
ABBREVIATIONS = {"republica": "rep", "democratica": "dem", "popular": "pop"}
SHORTENED_PREFIXES = ["islas", "isla"]


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def name_variants(alias: str) -> list[tuple[str, str]]:
    """Other ways offices write a name, as (normalized alias, kind)."""
    found: list[tuple[str, str]] = []
    if "," in alias and "(" not in alias:
        head, tail = alias.split(",", 1)
        found.append((normalize(f"{tail} {head}"), "inversion"))
    base = normalize(alias)
    for prefix in INVERTED_PREFIXES:
        if base.startswith(prefix + " "):
            found.append((f"{base[len(prefix) + 1 :]} {prefix}", "inversion"))
            break
    for prefix in SHORTENED_PREFIXES:
        if base.startswith(prefix + " "):
            found.append((base[len(prefix) + 1 :], "short_name"))
            break
    for variant, kind in [(base, "abbreviation"), *found]:
        words = variant.split(" ")
        if any(word in ABBREVIATIONS for word in words):
            short = " ".join(ABBREVIATIONS.get(word, word) for word in words)
            found.append((short, "abbreviation" if kind != "short_name" else kind))
    return [(text, kind) for text, kind in found if text and text != base]


@dataclass
class AliasTable:
    """Collects aliases per code list and settles conflicts by kind strength."""

    best: dict[tuple[str, str, str], tuple[int, str, str]] = field(default_factory=dict)
    ambiguous: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    never: set[tuple[str, str]] = field(default_factory=set)

    def add(
        self,
        codelist: str,
        label: str,
        code: str,
        kind: str,
        *,
        variants: bool = False,
        scope: str = GLOBAL,
    ) -> None:
        self._put(codelist, normalize(label), code, kind, scope)
        if variants:
            for text, variant_kind in name_variants(label):
                self._put(codelist, text, code, variant_kind, scope)

    def add_many(
        self,
        codelist: str,
        labels: Iterable[str],
        code: str,
        kind: str,
        *,
        variants: bool = False,
        scope: str = GLOBAL,
    ) -> None:
        for label in labels:
            self.add(codelist, label, code, kind, variants=variants, scope=scope)

    def _put(self, codelist: str, alias: str, code: str, kind: str, scope: str = GLOBAL) -> None:
        slot = (codelist, alias, scope)
        if not alias or (codelist, alias) in self.never:
            return
        rank = KIND_RANK[kind]
        current = self.best.get(slot)
        if current is None or rank < current[0]:
            self.best[slot] = (rank, code, kind)
            self.ambiguous.pop(slot, None)
        elif rank == current[0] and code != current[1]:
            self.ambiguous.setdefault(slot, {current[1]}).add(code)

    def rows(self) -> list[list[str]]:
        return sorted(
            [codelist, alias, code, kind, scope]
            for (codelist, alias, scope), (_, code, kind) in self.best.items()
            if (codelist, alias, scope) not in self.ambiguous
        )


def spanish_iso_catalogue() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])


def iso_names(country: object, spanish: gettext.NullTranslations) -> tuple[list[str], list[str]]:
    """English and Spanish names pycountry knows for one country (name, official, common)."""
    english = [
        getattr(country, attr)
        for attr in ("name", "official_name", "common_name")
        if getattr(country, attr, None)
    ]
    return english, [spanish.gettext(name) for name in english]


def m49_membership(m49: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(alpha-2 -> sub-region, sub-region -> region) from specs/codes/m49.yml."""
    parent: dict[str, str] = {}
    for region, subregions in m49["regions"].items():
        for subregion in subregions:
            parent[subregion] = region
    parent[UNKNOWN] = UNKNOWN
    member: dict[str, str] = {}
    for table in (m49["subregions"], m49["outlying"]):
        for subregion, alpha2s in table.items():
            for alpha2 in alpha2s:
                if alpha2 in member:
                    raise SystemExit(f"m49.yml: {alpha2} is in two sub-regions")
                member[alpha2] = subregion
    return member, parent


def region_rows(m49: dict, es: Locale, en: Locale) -> list[dict[str, str]]:
    overrides = m49["names"]

    def names(code: str) -> tuple[str, str]:
        given = overrides.get(code, {})
        return given.get("es") or es.territories[code], given.get("en") or en.territories[code]

    rows: list[dict[str, str]] = []

    def row(code: str, level: str, parent: str) -> None:
        name_es, name_en = names(code)
        rows.append(
            {
                "region_code": code,
                "name_es": name_es,
                "name_en": name_en,
                "level": level,
                "parent_code": parent,
            }
        )

    for region, subregions in m49["regions"].items():
        row(region, "region", "")
        for subregion in subregions:
            row(subregion, "subregion", region)
    for grouping, spec in m49["groupings"].items():
        row(grouping, "grouping", spec["parent"])
    row(UNKNOWN, "unknown", "")
    rows.append(
        {
            "region_code": TOTAL,
            "name_es": TOTAL_NAMES["es"],
            "name_en": TOTAL_NAMES["en"],
            "level": "total",
            "parent_code": "",
        }
    )
    return rows


def build_countries(aliases: AliasTable, es: Locale, en: Locale) -> list[dict[str, str]]:
    m49 = read_yaml(CODES_DIR / "m49.yml")
    curated = read_yaml(CODES_DIR / "countries.yml")
    member, parent = m49_membership(m49)
    regions = {r["region_code"]: r for r in region_rows(m49, es, en)}
    spanish = spanish_iso_catalogue()
    overrides = curated["names"]
    rows: list[dict[str, str]] = []

    def region_columns(subregion: str) -> dict[str, str]:
        region = parent.get(subregion, subregion)
        return {
            "region_code": region,
            "region_name_es": regions[region]["name_es"],
            "region_name_en": regions[region]["name_en"],
            "subregion_code": subregion,
            "subregion_name_es": regions[subregion]["name_es"],
            "subregion_name_en": regions[subregion]["name_en"],
        }

    for country in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        alpha2, alpha3 = country.alpha_2, country.alpha_3
        english, spanish_names = iso_names(country, spanish)
        given = overrides.get(alpha2, {})
        name_es = given.get("es") or es.territories.get(alpha2) or spanish_names[0]
        name_en = given.get("en") or en.territories.get(alpha2) or english[-1]
        if alpha2 not in member:
            raise SystemExit(f"specs/codes/m49.yml: no sub-region for {alpha2} ({name_en})")
        rows.append(
            {
                "code": alpha3,
                "iso2": alpha2,
                "iso_numeric": country.numeric,
                "name_es": name_es,
                "name_en": name_en,
                **region_columns(member[alpha2]),
                "is_country": "true",
            }
        )
        aliases.add_many("countries", [alpha3, alpha2, country.numeric], alpha3, "code")
        aliases.add_many("countries", [name_es, name_en], alpha3, "name", variants=True)
        aliases.add_many("countries", english + spanish_names, alpha3, "iso_name", variants=True)
        cldr = [locale.territories.get(alpha2) for locale in (es, en, *regional_locales())]
        aliases.add_many("countries", [n for n in cldr if n], alpha3, "cldr_name", variants=True)
    current = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    for code, spec in curated["extra"].items():
        rows.append(
            {
                "code": code,
                "iso2": spec.get("iso2", ""),
                "iso_numeric": "",
                "name_es": spec["es"],
                "name_en": spec["en"],
                **region_columns(spec["subregion"]),
                "is_country": "true",
            }
        )
        aliases.add("countries", code, code, "code")
        aliases.add_many("countries", [spec["es"], spec["en"]], code, "name", variants=True)
    rows.extend(build_historic(aliases, curated["historic"], current, region_columns))
    for code, spec in curated["special"].items():
        rows.append(
            {
                "code": code,
                "iso2": "",
                "iso_numeric": "",
                "name_es": spec["es"],
                "name_en": spec["en"],
                **region_columns(spec["region"]),
                "is_country": "false",
            }
        )
        aliases.add("countries", code, code, "code")
        aliases.add_many("countries", [spec["es"], spec["en"]], code, "name")
    for code, labels in curated["aliases"].items():
        aliases.add_many("countries", labels, code, "curated", variants=True)
    for code, demonyms in curated["demonyms"].items():
        forms = [form for demonym in demonyms for form in demonym_forms(demonym)]
        aliases.add_many("countries", forms, code, "demonym")
    for code, labels in curated["special_aliases"].items():
        aliases.add_many("countries", labels, code, "curated")
    for row in regional_others(m49, regions):
        rows.append(row)
        aliases.add("countries", row["code"], row["code"], "code")
        aliases.add_many("countries", [row["name_es"], row["name_en"]], row["code"], "name")
    return rows


def regional_others(m49: dict, regions: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """``OTH_<M49>``: the residual "Otros" row of a table under a region heading ("Otros" under
    "Asia" is the other countries of Asia), one code per region and sub-region."""
    rows = []
    for region, subregions in m49["regions"].items():
        for area in (region, *subregions):
            rows.append(
                {
                    "code": f"OTH_{area}",
                    "iso2": "",
                    "iso_numeric": "",
                    "name_es": f"Otros países de {regions[area]['name_es']}",
                    "name_en": f"Other countries of {regions[area]['name_en']}",
                    "region_code": region,
                    "region_name_es": regions[region]["name_es"],
                    "region_name_en": regions[region]["name_en"],
                    "subregion_code": area,
                    "subregion_name_es": regions[area]["name_es"],
                    "subregion_name_en": regions[area]["name_en"],
                    "is_country": "false",
                }
            )
    return rows


def demonym_forms(masculine: str) -> list[str]:
    """A Spanish demonym in masculine and feminine, singular and plural; a form already plural
    or English ("Norteamericanos", "Mexicans") as written.

    >>> demonym_forms("hondureño")
    ['hondureño', 'hondureña', 'hondureños', 'hondureñas']
    >>> demonym_forms("francés")
    ['francés', 'francesa', 'franceses', 'francesas']
    """
    endings = [
        ("és", ["és", "esa", "eses", "esas"]),
        ("án", ["án", "ana", "anes", "anas"]),
        ("o", ["o", "a", "os", "as"]),
        ("e", ["e", "es"]),
        ("a", ["a", "as"]),
        ("í", ["í", "íes", "ís"]),
        ("ú", ["ú", "úes", "ús"]),
        ("l", ["l", "la", "les", "las"]),
    ]
    if masculine.endswith("s") and not masculine.endswith("és"):
        return [masculine]
    for ending, forms in endings:
        if masculine.endswith(ending):
            stem = masculine[: -len(ending)]
            return [stem + form for form in forms]
    return [masculine, masculine + "a", masculine + "es", masculine + "as"]


def regional_locales() -> list[Locale]:
    """CLDR's regional Spanish and English (es_MX, es_419, en_GB...): their country names differ
    from the main locale's in a few places ("Arabia Saudita", "Timor Oriental", "Eswatini")."""
    return [
        Locale.parse(identifier)
        for identifier in sorted(localedata.locale_identifiers())
        if identifier.split("_")[0] in ("es", "en") and "_" in identifier
    ]


def historic_names(country: object, spanish: gettext.NullTranslations) -> list[str]:
    """Names of an ISO 3166-3 entry in English and Spanish, whole and before the comma
    ("Czechoslovakia, Czechoslovak Socialist Republic" -> also "Czechoslovakia")."""
    names = [country.name, spanish.gettext(country.name)]
    return names + [name.split(",")[0] for name in names if "," in name]


def build_historic(
    aliases: AliasTable,
    curated: dict[str, dict[str, str]],
    current: dict[str, str],
    region_columns: Callable[[str], dict[str, str]],
) -> list[dict[str, str]]:
    """ISO 3166-3 (pycountry.historic_countries): a state renamed or merged into one successor
    (the last two letters of its alpha-4 code name it: Zaire ZRCD -> CD) becomes an alias of the
    successor; a dissolved state (no single successor: ``HH``, or the curated ones such as the
    German Democratic Republic) gets a code of its own with the names and sub-region given in
    specs/codes/countries.yml ``historic``."""
    spanish = gettext.translation("iso3166-3", pycountry.LOCALES_DIR, languages=["es"])
    current_keys = {key for (codelist, key, _) in aliases.best if codelist == "countries"}
    rows: list[dict[str, str]] = []
    for country in sorted(pycountry.historic_countries, key=lambda c: c.alpha_3):
        names = historic_names(country, spanish)
        suffix = country.alpha_4[2:]
        successor = current.get(country.alpha_2 if suffix == "AA" else suffix)
        if country.alpha_3 in curated:
            spec = curated[country.alpha_3]
            rows.append(
                {
                    "code": country.alpha_3,
                    "iso2": "",
                    "iso_numeric": getattr(country, "numeric", ""),
                    "name_es": spec["es"],
                    "name_en": spec["en"],
                    **region_columns(spec["subregion"]),
                    "is_country": "true",
                }
            )
            aliases.add("countries", country.alpha_3, country.alpha_3, "code")
            aliases.add_many("countries", [spec["es"], spec["en"]], country.alpha_3, "name")
            aliases.add_many(
                "countries", spec.get("aliases", []), country.alpha_3, "curated", variants=True
            )
            # Whole names only: "Yemen, Democratic..." must not make "Yemen" ambiguous.
            whole = [name for name in names[:2] if normalize(name) not in current_keys]
            aliases.add_many("countries", whole, country.alpha_3, "historic", variants=True)
        elif successor is not None and country.alpha_3 not in current.values():
            aliases.add_many("countries", names, successor, "historic", variants=True)
    return rows


def build_regions(aliases: AliasTable, es: Locale, en: Locale) -> list[dict[str, str]]:
    m49 = read_yaml(CODES_DIR / "m49.yml")
    rows = region_rows(m49, es, en)
    for row in rows:
        code = row["region_code"]
        aliases.add("regions", code, code, "code")
        aliases.add_many("regions", [row["name_es"], row["name_en"]], code, "name")
        if code in es.territories:
            cldr = [es.territories[code], en.territories[code]]
            aliases.add_many("regions", cldr, code, "cldr_name")
    for code, labels in m49["aliases"].items():
        aliases.add_many("regions", labels, code, "curated")
    aliases.add_many("regions", TOTAL_ALIASES, TOTAL, "curated")
    aliases.add_many("regions", UNKNOWN_ALIASES, UNKNOWN, "curated")
    return rows


def month_members(es: Locale, en: Locale) -> list[dict]:
    members = []
    for number in range(1, 13):
        spellings = {number.__str__(), f"{number:02d}"}
        for locale in (es, en):
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    spellings.add(locale.months[context][width][number])
        members.append(
            {
                "code": f"{number:02d}",
                "es": es.months["stand-alone"]["wide"][number].capitalize(),
                "en": en.months["stand-alone"]["wide"][number],
                "aliases": sorted(spellings),
            }
        )
    members[8]["aliases"] += ["Sept", "Set", "Setiembre"]
    return members


def age_band_labels(age_from: int, age_to: int | None) -> tuple[str, str, list[str]]:
    """(name_es, name_en, the spellings offices use) for one age band."""
    if age_to is None:
        before = age_from - 1
        spellings = [
            f"{age_from} y más",
            f"{age_from} o más",
            f"{age_from}+",
            f"{age_from} y +",
            f"{age_from} años y más",
            f"{age_from} años o más",
            f"{age_from} y más años",
            f"Más de {before}",
            f"Más de {before} años",
            f"{age_from} and over",
            f"{age_from} years and over",
            f"{age_from} or more",
            f"{age_from} and older",
        ]
        return f"{age_from} años y más", f"{age_from} years and over", spellings
    spellings = [
        f"{age_from}-{age_to}",
        f"{age_from} a {age_to}",
        f"{age_from} a {age_to} años",
        f"De {age_from} a {age_to}",
        f"De {age_from} a {age_to} años",
        f"{age_from}-{age_to} años",
        f"{age_from} to {age_to}",
        f"{age_from}-{age_to} years",
        f"{age_from} to {age_to} years",
    ]
    return f"{age_from}-{age_to} años", f"{age_from}-{age_to} years", spellings


def build_code_lists(
    aliases: AliasTable, es: Locale, en: Locale
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    spec = read_yaml(CODES_DIR / "code_lists.yml")
    spec["months"]["codes"] = month_members(es, en)
    rows: list[dict[str, str]] = []
    ages: list[dict[str, str]] = []
    for codelist, list_spec in spec.items():
        for never in list_spec.get("never", []):
            aliases.never.add((codelist, normalize(never)))
        members = list(list_spec["codes"])
        band_aliases: dict[str, list[str]] = {}
        if codelist == "age_groups":
            seen: set[tuple[int, int | None]] = set()
            for member in members:
                band = (member["from"], member.get("to"))
                name_es, name_en, spellings = age_band_labels(*band)
                member.setdefault("es", name_es)
                member.setdefault("en", name_en)
                if band not in seen:
                    band_aliases[member["code"]] = spellings
                    seen.add(band)
                ages.append(age_row(member))
        for order, member in enumerate(members, start=1):
            code = member["code"]
            parent = "Y0T17" if code in ("Y0T17A", "Y0T17U") else ""
            rows.append(code_row(codelist, code, member["es"], member["en"], order, parent))
            aliases.add(codelist, code, code, "code")
            aliases.add_many(codelist, [member["es"], member["en"]], code, "name")
            aliases.add_many(codelist, member.get("aliases", []), code, "curated")
            aliases.add_many(codelist, band_aliases.get(code, []), code, "curated")
        if list_spec.get("unknown"):
            rows.append(code_row(codelist, UNKNOWN, **UNKNOWN_NAMES, order=len(members) + 1))
            aliases.add(codelist, UNKNOWN, UNKNOWN, "special_code")
            aliases.add_many(codelist, UNKNOWN_ALIASES, UNKNOWN, "curated")
            if codelist == "age_groups":
                ages.append(age_row({"code": UNKNOWN}))
        rows.append(code_row(codelist, TOTAL, **TOTAL_NAMES, order=len(members) + 2))
        aliases.add(codelist, TOTAL, TOTAL, "special_code")
        aliases.add_many(
            codelist, TOTAL_ALIASES + list_spec.get("total_aliases", []), TOTAL, "curated"
        )
        if codelist == "age_groups":
            ages.append(age_row({"code": TOTAL, "from": 0}))
    return rows, ages


def code_row(
    codelist: str, code: str, es: str, en: str, order: int, parent: str = ""
) -> dict[str, str]:
    return {
        "codelist": codelist,
        "code": code,
        "name_es": es,
        "name_en": en,
        "sort_order": str(order),
        "parent_code": parent,
    }


def age_row(member: dict) -> dict[str, str]:
    age_from, age_to = member.get("from"), member.get("to")
    five_year = age_to is not None and age_from % 5 == 0 and age_to - age_from == 4
    code = member["code"]
    return {
        "code": code,
        "age_from": "" if age_from is None else str(age_from),
        "age_to": "" if age_to is None else str(age_to),
        "is_minor": "true" if age_to is not None and age_to < 18 else "false",
        "is_standard_five_year_band": "true" if five_year or code == "Y_GE65" else "false",
        "is_unaccompanied": "true" if code == "Y0T17U" else "false",
    }


def build_ports(aliases: AliasTable) -> list[dict[str, str]]:
    """Ports of every reporting country; each alias holds only for its own country (scope), so
    one country's "Otros" is its own ``<ISO3>-OTH`` "other ports of entry" code."""
    transport = {"AIR": "AIR", "LAND": "ROAD", "SEA": "SEA", UNKNOWN: UNKNOWN}
    rows: list[dict[str, str]] = []
    for path in sorted(COUNTRIES_DIR.glob("*.yml")):
        country = CountrySpec.model_validate(read_yaml(path))
        ports = [(port.code, port.name, port.name, port.border_type) for port in country.ports]
        other = f"{country.code}-{OTHER_PORTS}"
        ports.append((other, OTHER_PORTS_NAMES["es"], OTHER_PORTS_NAMES["en"], UNKNOWN))
        for code, name, name_en, border_type in ports:
            rows.append(
                {
                    "reporting_country_code": country.code,
                    "port_code": code,
                    "name": name,
                    "border_type": border_type,
                    "transport_mode": transport[border_type],
                    "name_en": name_en,
                }
            )
            aliases.add("ports", code, code, "code", scope=country.code)
        for port in country.ports:
            for alias in port_name_keys(port.name):
                aliases.add("ports", alias, port.code, "port_name", scope=country.code)
            aliases.add_many("ports", port.aliases, port.code, "curated", scope=country.code)
        aliases.add_many("ports", OTHER_PORTS_ALIASES, other, "curated", scope=country.code)
    aliases.add("ports", TOTAL, TOTAL, "special_code")
    aliases.add_many("ports", TOTAL_ALIASES, TOTAL, "curated")
    aliases.add("ports", UNKNOWN, UNKNOWN, "special_code")
    aliases.add_many("ports", UNKNOWN_ALIASES, UNKNOWN, "curated")
    return rows


def to_csv(rows: list[dict[str, str]] | list[list[str]], header: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row[column] for column in header] if isinstance(row, dict) else row)
    return buffer.getvalue()


def build() -> dict[str, str]:
    """Every seed file name -> its CSV text."""
    es, en = Locale("es"), Locale("en")
    aliases = AliasTable()
    countries = build_countries(aliases, es, en)
    regions = build_regions(aliases, es, en)
    code_lists, ages = build_code_lists(aliases, es, en)
    ports = build_ports(aliases)
    return {
        "countries.csv": to_csv(countries, list(countries[0])),
        "m49_regions.csv": to_csv(regions, list(regions[0])),
        "code_lists.csv": to_csv(code_lists, list(code_lists[0])),
        "age_groups.csv": to_csv(ages, list(ages[0])),
        "ports.csv": to_csv(
            ports,
            [
                "reporting_country_code",
                "port_code",
                "name",
                "border_type",
                "transport_mode",
                "name_en",
            ],
        ),
        "code_aliases.csv": to_csv(aliases.rows(), ["codelist", "alias", "code", "kind", "scope"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build().items():
        path = SEEDS_DIR / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"seeds out of date: {', '.join(stale)} (run scripts/build_seeds.py)")
        return 1
    print(f"{'stale' if args.check else 'written'}: {', '.join(stale) or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
