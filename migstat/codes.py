"""Label -> code resolution: the one resolver of migstat (loader, build, CLI).

A label as an office writes it ("ESTADOS UNIDOS DE AMERICA", "Dominicana, Rep.", "Canadá2",
"Caimán, Islas (R. Unido)", "Yibuti (Djibouti)", "Corea, Rep. Pop. Dem.") is resolved in one
code list by these steps, first hit wins:

1. **exact keys** (:func:`candidates`): the label cleaned (superscripts -> digits, accents off,
   lower case, only ``a-z 0-9 _ ( ) . * ,`` kept, single spaces), then without a trailing
   qualifier ("(R. Unido)"), without a footnote marker ("1", "(2)", "*"), without both; each
   looked up in the alias table (``seeds/code_aliases.csv``) as its key (words of ``a-z 0-9 _``);
2. **variants** (:func:`variants`): the same forms inverted at their comma ("Marianas del
   Norte, Islas" -> "islas marianas del norte"), each part of a bracketed alternative ("Yibuti
   (Djibouti)" -> "yibuti", "djibouti"; a bracket naming an administering country such as
   "(Francia)" never stands for the label), and with abbreviations expanded ("Rep. Pop." ->
   "republica popular", "Sta." -> "santa", "A.I." -> "aeropuerto internacional");
3. **word sets**: the variants' words as a set, articles and prepositions dropped and synonyms
   folded ("isla"/"islas"/"is", "san"/"santa"/"saint"), against the same form of every alias:
   word order no longer matters ("Corea, República de" = "República de Corea");
4. **fuzzy** (:meth:`Resolver.match` only): rapidfuzz's ``fuzz.ratio`` between the label's forms
   and every alias of the code list; the best code resolves (method ``fuzzy``) when its score is
   at least the threshold and no other code is within the margin (else ``ambiguous``).

Steps 1-3 are method ``alias`` (:meth:`Resolver.resolve`, what the loader uses to classify
rows); :meth:`Resolver.match` adds step 4 and the three closest codes as suggestions.

Ports are resolved per reporting country (``scope``): an alias of a port holds only for the
country the port belongs to, so ``Otros`` in a ports column of Mexico is ``MEX-OTH``.

:func:`build_resolver` adds the user's files under ``$MIGSTAT_HOME/specs/`` (``codes/aliases.yml``,
``codes/resolution.yml``, ``countries/<ISO3>.yml``) to the shipped seeds. Nothing is read at
import time: seeds load on first use of a :class:`Resolver`.
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from migstat.home import SEEDS_DIR, SPECS_DIR

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
"""Footnote digits written as superscripts; mapped to ``0123456789`` before anything else."""
_SUPERSCRIPT_TABLE = str.maketrans(SUPERSCRIPTS, "0123456789")
_TRAILING_SUPERSCRIPTS = re.compile(rf"[\s,]*[{SUPERSCRIPTS}][{SUPERSCRIPTS}\s,]*$")
"""Superscript digits ending a label (``Costa Rica¹ ²``): footnote markers, whatever their count."""

CLEAN_DROP = r"[^a-z0-9_().*,/]+"
KEY_DROP = r"[^a-z0-9_]+"
QUALIFIER = r"^(.*[^ ]) ?\([^()]*\)$"
STARS = r"^(.*[^ *]) ?\*+$"
FOOTNOTE = r"^(.*?[a-z).]) ?(\([0-9]{1,2}\)|[0-9]{1,2}/?|[a-z]/|/)$"
MARKER = r"(?:\([0-9]{1,2}\)|[0-9]{1,2}/|[a-z]/|\*+)"
FOOTNOTES = rf"^(.*?[a-z).]) ?{MARKER}(?: ?,? ?{MARKER})+$"
"""Several footnote markers, each with its delimiter: ``haiti 1/ 2/``, ``cuba (1)(2)``."""
BRACKETED = r"^(.*?) ?\(([^()]*)\) ?(.*)$"

_CLEAN_DROP = re.compile(CLEAN_DROP)
_KEY_DROP = re.compile(KEY_DROP)
_QUALIFIER = re.compile(QUALIFIER)
_STARS = re.compile(STARS)
_FOOTNOTE = re.compile(FOOTNOTE)
_FOOTNOTES = re.compile(FOOTNOTES)
_BRACKETED = re.compile(BRACKETED)
_DIGIT = re.compile(r"[0-9]")

LANGUAGES = ("es", "en")

# Abbreviations offices use, by word (after accents and case are gone): each expands to one or
# more full words; every combination is tried (bounded by MAX_EXPANSIONS).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "rep": ("republica",),
    "repub": ("republica",),
    "r": ("republica", "reino"),
    "pop": ("popular",),
    "p": ("popular", "paises"),
    "n": ("nueva", "norte", "nuevo"),
    "sts": ("estados",),
    "dem": ("democratica", "democratico"),
    "fed": ("federal", "federados", "federacion", "federativa"),
    "terr": ("territorio", "territorios"),
    "terrs": ("territorios",),
    "is": ("islas", "isla"),
    "isl": ("islas", "islamica"),
    "sta": ("santa",),
    "sto": ("santo",),
    "st": ("san", "santa", "saint"),
    "sn": ("san",),
    "emir": ("emiratos",),
    "arab": ("arabe", "arabes"),
    "ar": ("arabe", "arabes"),
    "unid": ("unidos", "unido", "unida"),
    "est": ("estados", "estado"),
    "edos": ("estados",),
    "plur": ("plurinacional",),
    "bol": ("bolivariana",),
    "soc": ("socialista",),
    "sov": ("sovietica", "sovieticas"),
    "brit": ("britanico", "britanicas", "britanica"),
    "britan": ("britanico", "britanicas", "britanica"),
    "fr": ("francesa", "francia"),
    "franc": ("francesa", "frances"),
    "amer": ("americanas", "america"),
    "occ": ("occidental",),
    "or": ("oriental",),
    "ote": ("oriental",),
    "mer": ("meridional",),
    "sept": ("septentrional",),
    "admin": ("administrativa",),
    "adm": ("administrativa",),
    "esp": ("especial",),
    "prov": ("provincia",),
    "dep": ("dependencia", "dependencias"),
    "rae": ("region administrativa especial",),
    "nva": ("nueva",),
    "nvo": ("nuevo",),
    "gral": ("general",),
    "pto": ("puerto",),
    "aerop": ("aeropuerto",),
    "aeropto": ("aeropuerto",),
    "apto": ("aeropuerto",),
    "aer": ("aeropuerto",),
    "int": ("internacional",),
    "intl": ("internacional",),
    "internac": ("internacional",),
    "cd": ("ciudad",),
    "fte": ("frontera",),
    "ptf": ("puesto fronterizo",),
}
# Abbreviations of several letters written with dots ("a. i." -> "a i"): whole-phrase expansions.
PHRASES: dict[str, str] = {
    "a i": "aeropuerto internacional",
    "p f": "puesto fronterizo",
    "ee uu": "estados unidos",
    "e u a": "estados unidos de america",
    "r u": "reino unido",
    "p bajos": "paises bajos",
    "rep dem pop": "republica democratica popular",
    "rep pop dem": "republica popular democratica",
    "gran ducado": "ducado",
}
MAX_EXPANSIONS = 16

# Words that carry no meaning for matching word sets, and words that mean the same thing.
STOPWORDS = frozenset(
    [
        "de",
        "del",
        "la",
        "las",
        "el",
        "los",
        "y",
        "e",
        "the",
        "of",
        "and",
        "da",
        "do",
        "das",
        "dos",
        "du",
        "des",
        "le",
        "et",
    ]
)
SYNONYMS: dict[str, str] = {
    "islas": "isla",
    "islands": "isla",
    "island": "isla",
    "is": "isla",
    "santa": "san",
    "santo": "san",
    "saint": "san",
    "sint": "san",
    "holandesa": "neerlandesa",
    "holandes": "neerlandes",
    "st": "san",
    "sta": "san",
    "sto": "san",
    "rep": "republica",
    "democratico": "democratica",
    "democratic": "democratica",
    "republic": "republica",
    "territorios": "territorio",
    "unida": "unido",
    "unidos": "unido",
    "estados": "estado",
    "federados": "federal",
    "federacion": "federal",
    "federativa": "federal",
}

# Words naming a form of state or a kind of territory: dropped as a last alias step ("Tuvalu,
# Rep." = "Tuvalu", "Wallis y Futuna, Islas" = "Wallis y Futuna") when that leaves one code.
STATE_WORDS = frozenset(
    [
        "republica",
        "reino",
        "estado",
        "principado",
        "sultanato",
        "emirato",
        "federal",
        "isla",
        "ciudad",
        "commonwealth",
        "confederacion",
        "ducado",
        "sar",
        "rae",
        "region",
        "administrativa",
        "especial",
        "ex",
        "former",
        "fyr",
        "ary",
        "ery",
    ]
)

# Countries that administer territories: a bracket naming one of them qualifies the label
# ("Guadalupe (Francia)") and is never taken as what the label stands for.
ADMINISTERING = frozenset(
    {"AUS", "CHN", "DNK", "ESP", "FIN", "FRA", "GBR", "NLD", "NOR", "NZL", "PRT", "USA"}
)

FUZZY_THRESHOLD = 88.0
"""Lowest fuzzy score (0-100) that resolves a label; ``specs/codes/resolution.yml``."""
FUZZY_MARGIN = 4.0
"""A fuzzy best whose runner-up (another code) is this close is ``ambiguous``."""
FUZZY_MIN_LENGTH = 5
"""Labels shorter than this (as keys) never resolve by fuzzy match."""

METHODS = ("alias", "fuzzy", "ambiguous", "none")
OTHER_PORTS = "OTH"
OTHER_PORTS_NAMES = {"es": "Otros puntos de entrada", "en": "Other ports of entry"}
OTHER_PORTS_ALIASES = [
    "Otros",
    "Otras",
    "Otros puntos",
    "Otros puntos de entrada",
    "Otros puertos",
    "Otros puestos",
    "Otros aeropuertos",
    "Resto",
    "Demás",
    "Others",
    "Other",
    "Other ports",
    "Other ports of entry",
]
GLOBAL = ""
"""The scope of aliases that hold for every reporting country."""


def strip_accents(text: str) -> str:
    """Drop combining marks after canonical decomposition (what DuckDB ``strip_accents`` does)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean(label: str) -> str:
    """Accents off, lower case, only ``a-z 0-9 _ ( ) . * , /`` kept, single spaces, trimmed.

    Text copied from web pages and PDFs is read as it shows: invisible format characters
    (zero-width spaces, byte-order marks, direction marks) are dropped and compatibility forms
    folded (full-width ``Ｃａｎａｄá`` is ``Canadá``)."""
    visible = "".join(char for char in label if unicodedata.category(char) != "Cf")
    visible = _TRAILING_SUPERSCRIPTS.sub("", visible)
    text = strip_accents(unicodedata.normalize("NFKC", visible.translate(_SUPERSCRIPT_TABLE)))
    text = text.lower()
    return _CLEAN_DROP.sub(" ", text).strip(" ")


def key(cleaned: str) -> str:
    """The alias-table form of a cleaned label: words of ``a-z 0-9 _`` joined by one space."""
    return _KEY_DROP.sub(" ", cleaned).strip(" ")


def normalize(label: str) -> str:
    """The normalized form of a label, as stored in ``code_aliases.alias``.

    >>> normalize("  ESTADOS UNIDOS DE AMÉRICA ")
    'estados unidos de america'
    >>> normalize("Dominicana, Rep.")
    'dominicana rep'
    """
    return key(clean(label))


def strip_qualifier(cleaned: str) -> str:
    """Drop one trailing parenthesised group: ``caiman, islas (r. unido)`` -> ``caiman, islas``."""
    return _QUALIFIER.sub(r"\1", cleaned)


def strip_footnote(cleaned: str) -> str:
    """Drop a trailing footnote marker (``*``, ``1``, ``(2)``, ``1/``, ``a/``) after a letter,
    ``)`` or ``.``."""
    return _FOOTNOTE.sub(r"\1", _STARS.sub(r"\1", _FOOTNOTES.sub(r"\1", cleaned)))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def candidates(label: str) -> list[str]:
    """The exact keys of a label, in order: as written, without qualifier, without footnote,
    without both (duplicates dropped).

    >>> candidates("México (1)")
    ['mexico 1', 'mexico']
    >>> candidates("0-4")
    ['0 4']
    """
    cleaned = clean(label)
    no_footnote = strip_footnote(cleaned)
    return _unique(
        key(form)
        for form in (
            cleaned,
            strip_qualifier(cleaned),
            no_footnote,
            strip_qualifier(no_footnote),
        )
    )


def _inversions(form: str) -> list[str]:
    """``marianas del norte, islas`` -> ``islas marianas del norte`` (at the last comma, and at
    the first when there are two: ``corea, rep. de, la`` is rare but ``congo, rep. dem. del``
    is not)."""
    if "," not in form:
        return []
    found = []
    head, tail = form.rsplit(",", 1)
    found.append(f"{tail} {head}")
    first, rest = form.split(",", 1)
    if rest != tail:
        found.append(f"{rest} {first}")
    return found


def expansions(label_key: str) -> list[str]:
    """A key with its abbreviations written out (every combination, bounded).

    >>> expansions("corea rep pop dem")[:2]
    ['corea republica popular democratica', 'corea republica popular democratico']
    """
    text = f" {label_key} "
    for short, full in PHRASES.items():
        text = text.replace(f" {short} ", f" {full} ")
    words = text.split()
    options = [(word, *ABBREVIATIONS[word]) if word in ABBREVIATIONS else (word,) for word in words]
    if all(len(option) == 1 for option in options):
        return [] if " ".join(words) == label_key else [" ".join(words)]
    found = []
    for combination in itertools.islice(
        itertools.product(*(option[1:] or option for option in options)), MAX_EXPANSIONS
    ):
        found.append(" ".join(combination))
    return [text for text in _unique(found) if text != label_key]


def variants(label: str) -> tuple[list[str], list[str]]:
    """(the keys that stand for the whole label, the keys of its bracketed alternatives).

    The first list holds the exact candidates, their inversions and their expansions; the
    second, each part of a bracketed alternative (``Yibuti (Djibouti)`` -> ``djibouti``) with
    its own inversions and expansions, tried only when the first list finds nothing.
    """
    cleaned = clean(label)
    no_footnote = strip_footnote(cleaned)
    forms = _unique([cleaned, strip_qualifier(cleaned), no_footnote, strip_qualifier(no_footnote)])
    alternatives: list[str] = []
    for form in list(forms):
        match = _BRACKETED.match(form)
        if match:
            outside = f"{match.group(1)} {match.group(3)}".strip()
            inside = match.group(2).strip()
            forms.append(outside)
            alternatives.append(inside)
    return _expand(forms), [k for k in _expand(alternatives) if k]


def slash_parts(label: str) -> list[list[str]]:
    """The keys of each part of ``Yibuti / Djibouti`` (empty unless two or more parts)."""
    form = strip_qualifier(strip_footnote(clean(label)))
    parts = [part.strip() for part in form.split("/")]
    if len(parts) < 2 or any(len(key(part)) < 2 for part in parts):
        return []
    return [_expand([part]) for part in parts]


ENUMERATOR = re.compile(r"^([0-9]{1,3}[.)]?|[a-z][.)]) +(?=[a-z])")
"""A leading row number or letter ("1. México", "484 México", "a) Canadá")."""


def _expand(forms: list[str]) -> list[str]:
    forms = _unique([*forms, *(ENUMERATOR.sub("", form) for form in forms)])
    inverted = _unique([*forms, *(text for form in forms for text in _inversions(form))])
    keys = _unique(key(form) for form in inverted)
    keys = _unique([*keys, *(text for k in keys for text in _without_total(k))])
    return _unique([*keys, *(text for k in keys for text in expansions(k))])


_TOTAL_WORDS = ("total", "subtotal", "sub total", "total de", "subtotal de")


def _without_total(label_key: str) -> list[str]:
    """``total asia`` / ``asia total`` / ``subtotal de europa`` -> the region's own name."""
    found = []
    for word in _TOTAL_WORDS:
        if label_key.startswith(word + " "):
            found.append(label_key[len(word) + 1 :])
        if label_key.endswith(" " + word):
            found.append(label_key[: -len(word) - 1])
    return found


def core(words: str) -> str:
    """A word set without the words naming a form of state or kind of territory."""
    return " ".join(word for word in words.split() if word not in STATE_WORDS)


def word_set(label_key: str) -> str:
    """Words of a key as a sorted set, articles dropped, synonyms folded (order-free form).

    >>> word_set("corea republica de") == word_set("republica de corea")
    True
    """
    words = {SYNONYMS.get(word, word) for word in label_key.split() if word not in STOPWORDS}
    return " ".join(sorted(words))


@dataclass(frozen=True)
class Member:
    """One code of one code list, with its names."""

    codelist: str
    code: str
    name_es: str
    name_en: str
    sort_order: int
    parent_code: str | None = None
    scope: str = GLOBAL
    """The reporting country a port belongs to; empty for every other code list."""

    def name(self, lang: str = "es") -> str:
        return self.name_en if lang == "en" else self.name_es


@dataclass(frozen=True)
class LabelMatch:
    """How one label resolves in one code list (see :meth:`Resolver.match`)."""

    code: str | None
    method: str
    """``alias`` (exact, variant or word-set key), ``fuzzy``, ``ambiguous`` or ``none``."""
    score: float | None
    """Fuzzy score 0-100 of the best code; None for ``alias``."""
    suggestions: list[tuple[str, str, float]] = field(default_factory=list)
    """The three closest codes as (code, Spanish name, score), best first; empty for ``alias``."""

    def suggestions_text(self, lang: str = "es", members: dict[str, Member] | None = None) -> str:
        """``CAN Canadá 92; USA Estados Unidos 61`` (names in ``lang`` when members given)."""
        parts = []
        for code, name_es, score in self.suggestions:
            member = (members or {}).get(code)
            name = member.name(lang) if member else name_es
            parts.append(f"{code} {name} {score:.0f}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ResolutionSettings:
    """Fuzzy matching settings (``specs/codes/resolution.yml``, overlaid by the user's)."""

    threshold: float = FUZZY_THRESHOLD
    margin: float = FUZZY_MARGIN
    min_length: int = FUZZY_MIN_LENGTH


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


PORT_PREFIXES = [
    "aeropuerto internacional",
    "aeropuerto",
    "puerto",
    "puesto fronterizo",
    "frontera",
    "garita",
]


def port_name_keys(name: str) -> list[str]:
    """Keys a port's name is also written as: without ``Aeropuerto Internacional``, ``Puerto``...

    >>> port_name_keys("Aeropuerto Internacional de Cancún")
    ['aeropuerto internacional de cancun', 'de cancun', 'cancun']
    """
    base = normalize(name)
    found = [base]
    for prefix in PORT_PREFIXES:
        if base.startswith(prefix + " "):
            rest = base[len(prefix) + 1 :]
            found.append(rest)
            for article in ("de ", "del ", "la ", "el "):
                if rest.startswith(article):
                    found.append(rest[len(article) :])
            break
    return _unique(found)


class Resolver:
    """Resolves labels to codes and codes to names, from the seeds in one folder."""

    def __init__(
        self, seeds_dir: Path = SEEDS_DIR, settings: ResolutionSettings | None = None
    ) -> None:
        self.seeds_dir = seeds_dir
        self.settings = settings or ResolutionSettings()
        # codelist -> scope -> key -> code
        self.aliases: dict[str, dict[str, dict[str, str]]] = {}
        self.members: dict[str, dict[str, Member]] = {}
        self._indexes: dict[tuple[str, str], _Index] = {}
        self._matches: dict[tuple[str, str, str], LabelMatch] = {}
        self._resolved: dict[tuple[str, str, str], str | None] = {}
        self.exact_only: set[tuple[str, str]] = set()
        """(code list, key) of aliases that match only as written (demonyms: "turcas" is
        Turkish women, not a word of "Islas Turcas y Caicos")."""
        for row in _read_csv(seeds_dir / "code_aliases.csv"):
            self._alias(row["codelist"], row.get("scope") or GLOBAL, row["alias"], row["code"])
            if row.get("kind") == "demonym":
                self.exact_only.add((row["codelist"], row["alias"]))
        for row in _read_csv(seeds_dir / "code_lists.csv"):
            self.add_member(
                Member(
                    codelist=row["codelist"],
                    code=row["code"],
                    name_es=row["name_es"],
                    name_en=row["name_en"],
                    sort_order=int(row["sort_order"]),
                    parent_code=row["parent_code"] or None,
                )
            )
        for order, row in enumerate(_read_csv(seeds_dir / "countries.csv")):
            self.add_member(Member("countries", row["code"], row["name_es"], row["name_en"], order))
        for order, row in enumerate(_read_csv(seeds_dir / "m49_regions.csv")):
            parent = row["parent_code"] or None
            self.add_member(
                Member("regions", row["region_code"], row["name_es"], row["name_en"], order, parent)
            )
        for order, row in enumerate(_read_csv(seeds_dir / "ports.csv")):
            name_en = row.get("name_en") or row["name"]
            scope = row["reporting_country_code"]
            self.add_member(
                Member("ports", row["port_code"], row["name"], name_en, order, scope=scope)
            )
        # Ports have no row in code_lists.csv: their total and unknown members are these.
        count = len(self.members.get("ports", {}))
        self.add_member(Member("ports", "_U", "No especificado", "Not specified", count))
        self.add_member(Member("ports", "_T", "Total", "Total", count + 1))

    # --- building ------------------------------------------------------------------------

    def _alias(self, codelist: str, scope: str, alias_key: str, code: str) -> None:
        self.aliases.setdefault(codelist, {}).setdefault(scope, {})[alias_key] = code
        self._forget()

    def add_alias(self, codelist: str, label: str, code: str, scope: str = GLOBAL) -> None:
        """Declare that ``label`` stands for ``code`` (a user alias wins over a shipped one)."""
        alias_key = normalize(label)
        if alias_key:
            self._alias(codelist, scope, alias_key, code)

    def add_member(self, member: Member) -> None:
        self.members.setdefault(member.codelist, {})[member.code] = member
        self._forget()

    def _forget(self) -> None:
        """Drop the indexes and answers built so far (after an alias or member is added)."""
        self._indexes.clear()
        self._matches.clear()
        self._resolved.clear()

    def add_country_ports(self, country: str, ports: Iterable[tuple[str, str, list[str]]]) -> None:
        """Ports of one reporting country as (code, name, aliases), plus ``<ISO3>-OTH``."""
        order = len(self.members.get("ports", {}))
        for offset, (code, name, aliases) in enumerate(ports):
            self.add_member(Member("ports", code, name, name, order + offset, scope=country))
            self._alias("ports", country, normalize(code), code)
            for alias_key in port_name_keys(name):
                self._alias("ports", country, alias_key, code)
            for alias in aliases:
                self.add_alias("ports", alias, code, country)
        other = f"{country}-{OTHER_PORTS}"
        if other not in self.members.get("ports", {}):
            self.add_member(
                Member(
                    "ports",
                    other,
                    OTHER_PORTS_NAMES["es"],
                    OTHER_PORTS_NAMES["en"],
                    order + 10_000,
                    scope=country,
                )
            )
        for alias in OTHER_PORTS_ALIASES:
            self.add_alias("ports", alias, other, country)

    # --- questions -----------------------------------------------------------------------

    def codelists(self) -> list[str]:
        return sorted(set(self.members) | set(self.aliases))

    def _scope(self, codelist: str, scope: str | None) -> str | None:
        """A scope the code list has no aliases of is the global scope (one index for all)."""
        scopes = self.aliases.get(codelist, {})
        if scope is None:
            return None if len(scopes) > 1 else GLOBAL
        return scope if scope in scopes else GLOBAL

    def _index(self, codelist: str, scope: str | None) -> _Index:
        slot = (codelist, "\0all" if scope is None else scope)
        index = self._indexes.get(slot)
        if index is None:
            index = _Index.build(self, codelist, scope)
            self._indexes[slot] = index
        return index

    def _alias_code(self, codelist: str, label: str, scope: str | None) -> str | None:
        scope = self._scope(codelist, scope)
        index = self._index(codelist, scope)
        whole, alternatives = variants(label)
        cleaned = clean(label)
        full = _expand(_unique([cleaned, strip_footnote(cleaned)]))
        # The label with its bracket first ("Sudán (Sur)" is "Sudán del Sur", not Sudan).
        code = index.lookup(full)
        if code is not None:
            return code
        code = index.lookup(whole)
        inner = index.lookup(alternatives) if alternatives else None
        administering = codelist == "countries" and inner in ADMINISTERING
        stripped = [k for k in whole if k not in full]
        agrees = inner in (None, code) or administering
        if code is not None and agrees and (inner == code or not index.contested(stripped)):
            return code
        if alternatives and inner is not None and not administering:
            return inner  # "China (Macao)": the base is contested, the bracket names the code
        if code is not None and not alternatives:
            return code
        parts = slash_parts(label)
        if parts:
            codes = {index.lookup(part) for part in parts}
            if len(codes) == 1 and None not in codes:
                return codes.pop()
        return None

    def resolve(self, codelist: str, label: str | None, scope: str | None = None) -> str | None:
        """The code a label stands for by its aliases (steps 1-3, no fuzzy match), or None."""
        if label is None:
            return None
        slot = (codelist, "\0all" if scope is None else scope, label)
        if slot not in self._resolved:
            self._resolved[slot] = self._alias_code(codelist, label, scope)
        return self._resolved[slot]

    def match(self, codelist: str, label: str | None, scope: str | None = None) -> LabelMatch:
        """How a label resolves, fuzzy step included, with the three closest codes."""
        if label is None:
            return LabelMatch(None, "none", None, [])
        scope = self._scope(codelist, scope)
        slot = (codelist, "\0all" if scope is None else scope, label)
        found = self._matches.get(slot)
        if found is None:
            found = self._match(codelist, label, scope)
            self._matches[slot] = found
        return found

    def _match(self, codelist: str, label: str, scope: str | None) -> LabelMatch:
        code = self._alias_code(codelist, label, scope)
        if code is not None:
            return LabelMatch(code, "alias", None, [])
        index = self._index(codelist, scope)
        whole, _ = variants(label)
        ranked = index.closest(whole)
        suggestions = [
            (ranked_code, self._name(codelist, ranked_code), score)
            for ranked_code, score in ranked[:3]
        ]
        if not ranked:
            return LabelMatch(None, "none", None, suggestions)
        best_code, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        settings = self.settings
        probe = normalize(label)
        if len(probe) < settings.min_length or _DIGIT.search(key(strip_footnote(clean(label)))):
            return LabelMatch(None, "none", best, suggestions)
        if best < settings.threshold:
            return LabelMatch(None, "none", best, suggestions)
        if best - runner_up < settings.margin or len(index.containing(whole[0])) > 1:
            return LabelMatch(None, "ambiguous", best, suggestions)
        return LabelMatch(best_code, "fuzzy", best, suggestions)

    def _name(self, codelist: str, code: str) -> str:
        member = self.member(codelist, code)
        return member.name_es if member else code

    def member(self, codelist: str, code: str) -> Member | None:
        return self.members.get(codelist, {}).get(code)

    def name(self, codelist: str, code: str, lang: str = "es") -> str | None:
        """The name of a code in ``es`` or ``en``, or None for an unknown code."""
        member = self.member(codelist, code)
        if member is None:
            return None
        return member.name(lang)

    def list(self, codelist: str) -> list[Member]:
        """The members of a code list in their display order."""
        return sorted(self.members.get(codelist, {}).values(), key=lambda m: m.sort_order)


@dataclass
class _Index:
    """One code list's (and scope's) keys, word sets and fuzzy choices."""

    exact: list[dict[str, str]]
    words: dict[str, str | None]
    cores: dict[str, str | None]
    choices: list[str]
    choice_codes: list[str]
    choice_words: list[frozenset[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.choice_words = [frozenset(word_set(choice).split()) for choice in self.choices]

    @classmethod
    def build(cls, resolver: Resolver, codelist: str, scope: str | None) -> _Index:
        scopes = resolver.aliases.get(codelist, {})
        unscoped: dict[str, str] = {}
        if scope is None:
            seen: dict[str, set[str]] = {}
            for name, table in scopes.items():
                if name == GLOBAL:
                    continue
                for alias_key, code in table.items():
                    seen.setdefault(alias_key, set()).add(code)
            unscoped = {k: next(iter(c)) for k, c in seen.items() if len(c) == 1}
            exact = [scopes.get(GLOBAL, {}), unscoped]
        else:
            exact = [scopes.get(scope, {}), scopes.get(GLOBAL, {})]
        merged: dict[str, str] = {}
        for exact_table in reversed(exact):
            merged.update(exact_table)
        words: dict[str, str | None] = {}
        cores: dict[str, str | None] = {}
        for alias_key, code in merged.items():
            if (codelist, alias_key) in resolver.exact_only or len(alias_key) <= 3:
                continue  # demonyms and codes ("mn" is Mongolia, not "Isla de Mn")
            form = word_set(alias_key)
            for forms, text in ((words, form), (cores, core(form))):
                if not text:
                    continue
                if text in forms and forms[text] != code:
                    forms[text] = None
                else:
                    forms.setdefault(text, code)
        # Names of members count as choices too (a port or code list member without aliases).
        members = resolver.members.get(codelist, {})
        for member in members.values():
            if scope is not None and member.scope not in (GLOBAL, scope):
                continue
            for name in (member.name_es, member.name_en):
                merged.setdefault(normalize(name), member.code)
        # Short keys (codes such as "aia", "usa") are no fuzzy targets: "asia" is not Anguila.
        choices = [choice for choice in merged if len(choice) >= resolver.settings.min_length]
        return cls(exact, words, cores, choices, [merged[c] for c in choices])

    def lookup(self, keys: list[str]) -> str | None:
        for label_key in keys:
            for exact_table in self.exact:
                code = exact_table.get(label_key)
                if code is not None:
                    return code
        for table, form in ((self.words, word_set), (self.cores, lambda k: core(word_set(k)))):
            for label_key in keys:
                code = table.get(form(label_key))
                if code is not None:
                    return code
        return None

    def contested(self, keys: list[str]) -> bool:
        """Whether a key without its bracket is ambiguous: longer aliases that start with it
        stand for two codes or more ("san martin" + "parte francesa" / "paises bajos")."""
        for label_key in keys[:4]:
            prefix = label_key + " "
            codes = {
                code
                for table in self.exact
                for alias_key, code in table.items()
                if alias_key.startswith(prefix)
            }
            if len(codes) > 1:
                return True
        return False

    def containing(self, label_key: str) -> set[str]:
        """Codes with an alias holding every word of the key ("islas virgenes" is in both
        "islas virgenes britanicas" and "islas virgenes de los estados unidos")."""
        wanted = set(word_set(label_key).split())
        if not wanted:
            return set()
        return {
            code
            for words, code in zip(self.choice_words, self.choice_codes, strict=True)
            if wanted <= words
        }

    def closest(self, keys: list[str], limit: int = 40) -> list[tuple[str, float]]:
        """Codes ranked by their best fuzzy score against any of the keys."""
        from rapidfuzz import fuzz, process

        best: dict[str, float] = {}
        if not self.choices:
            return []
        for label_key in keys[:24]:
            if not label_key:
                continue
            for _, score, position in process.extract(
                label_key, self.choices, scorer=fuzz.ratio, limit=limit
            ):
                code = self.choice_codes[position]
                if score > best.get(code, -1.0):
                    best[code] = score
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))


# --- user files ------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict:
    from migstat.errors import MigstatError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MigstatError(f"{path}: not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MigstatError(f"{path}: a code file must hold a mapping")
    return data


def read_settings(*folders: Path | None) -> ResolutionSettings:
    """Fuzzy settings from ``<folder>/codes/resolution.yml``, later folders overriding."""
    values: dict[str, Any] = {}
    for folder in folders:
        if folder is None:
            continue
        path = folder / "codes" / "resolution.yml"
        if path.exists():
            fuzzy = _read_yaml(path).get("fuzzy") or {}
            names = ("threshold", "margin", "min_length")
            values.update({name: fuzzy[name] for name in names if name in fuzzy})
    return ResolutionSettings(**values)


def _country_ports(data: dict) -> Iterator[tuple[str, str, list[str]]]:
    for port in data.get("ports") or []:
        yield str(port["code"]), str(port["name"]), [str(a) for a in port.get("aliases") or []]


def apply_overlay(resolver: Resolver, overlay: Path) -> list[Path]:
    """Add the user's code files under ``overlay`` (a ``specs`` folder) to ``resolver``.

    * ``codes/aliases.yml``: ``aliases: {CODE: [label, ...]}`` for countries (as in the
      shipped ``specs/codes/countries.yml``), and ``codelists: {<codelist>: {CODE: [...]}}``
      for any other code list (``ports`` codes there hold for their own country);
    * ``countries/<ISO3>.yml``: the country's ports (with their ``aliases:``) and its
      ``<ISO3>-OTH`` "other ports" code.

    Returns the files used.
    """
    used: list[Path] = []
    aliases_path = overlay / "codes" / "aliases.yml"
    if aliases_path.exists():
        data = _read_yaml(aliases_path)
        tables = {"countries": data.get("aliases") or {}, **(data.get("codelists") or {})}
        for codelist, table in tables.items():
            for code, labels in (table or {}).items():
                code = str(code)
                scope = code.split("-", 1)[0] if codelist == "ports" and "-" in code else GLOBAL
                for label in [labels] if isinstance(labels, str) else labels or []:
                    resolver.add_alias(codelist, str(label), code, scope)
        used.append(aliases_path)
    countries = overlay / "countries"
    if countries.is_dir():
        for path in sorted(countries.glob("*.yml")):
            data = _read_yaml(path)
            country = str(data.get("code") or path.stem)
            resolver.add_country_ports(country, _country_ports(data))
            used.append(path)
    return used


def build_resolver(overlay: Path | None = None, seeds_dir: Path = SEEDS_DIR) -> Resolver:
    """A resolver over the shipped seeds plus the user's files under ``overlay`` (a folder laid
    out like the repository's ``specs/``, usually ``$MIGSTAT_HOME/specs``)."""
    resolver = Resolver(seeds_dir, read_settings(SPECS_DIR, overlay))
    if overlay is not None and overlay.is_dir():
        apply_overlay(resolver, overlay)
    return resolver


def user_resolver(overlay: Path | None = None) -> Resolver:
    """The resolver over the shipped seeds and the user's code files (``$MIGSTAT_HOME/specs``
    unless ``overlay`` is given), loaded once per process and folder."""
    if overlay is None:
        from migstat.home import Home

        overlay = Home.from_env().root / "specs"
    return _user_resolver(overlay.resolve())


@cache
def _user_resolver(overlay: Path) -> Resolver:
    return build_resolver(overlay)


@cache
def default_resolver() -> Resolver:
    """The resolver over the repository's seeds, loaded once per process."""
    return Resolver(settings=read_settings(SPECS_DIR))


def resolve(codelist: str, label: str | None) -> str | None:
    """Shortcut for ``default_resolver().resolve(codelist, label)``."""
    return default_resolver().resolve(codelist, label)


def display_label(codelist: str, code: str, lang: str = "es") -> str:
    """The label users read for a code (``("countries", "DOM")`` -> "República Dominicana").

    Falls back to the code itself when the code list or code is unknown, so a template can always
    be written.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (use one of {', '.join(LANGUAGES)})")
    name = default_resolver().name(codelist, code, lang)
    return name if name else code
