"""Label -> code resolution over the code-list seeds (the same alias table dbt staging uses).

A label as an office writes it ("ESTADOS UNIDOS DE AMERICA", "Dominicana, Rep.", "Canadá2",
"Caimán, Islas (R. Unido)") is turned into a short sequence of *candidate keys*; the first key
found in ``seeds/code_aliases.csv`` for the code list wins. ``macros/resolve_label.sql`` builds
exactly the same keys in DuckDB SQL, and a test holds the two to agreement.

The steps, all on ASCII once accents are gone:

1. ``clean``: superscript digits -> digits, accents stripped (canonical decomposition, combining
   marks dropped, as DuckDB's ``strip_accents``), lower case, every character other than
   ``a-z 0-9 _ ( ) . *`` becomes a space, runs of spaces collapse, ends trimmed;
2. candidates: the cleaned label; without one trailing parenthesised qualifier ("(R. Unido)",
   "(1)"); without a trailing footnote marker ("1", "(2)", "*"; only after a letter, ``)`` or
   ``.``, so "0-4" and "01" keep their digits); without both;
3. ``key``: everything but ``a-z 0-9 _`` becomes a single space, ends trimmed ("EE.UU." -> "ee uu").

Nothing is read at import time: seeds load on first use of a :class:`Resolver`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from migstat.home import SEEDS_DIR

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
"""Footnote digits written as superscripts; mapped to ``0123456789`` before anything else."""
_SUPERSCRIPT_TABLE = str.maketrans(SUPERSCRIPTS, "0123456789")

# The regular expressions below are shared, character for character, with
# macros/resolve_label.sql (RE2 there, ``re`` here): they only use constructs with the same
# meaning in both engines and only ever see ASCII.
CLEAN_DROP = r"[^a-z0-9_().*]+"
KEY_DROP = r"[^a-z0-9_]+"
QUALIFIER = r"^(.*[^ ]) ?\([^()]*\)$"
STARS = r"^(.*[^ *]) ?\*+$"
FOOTNOTE = r"^(.*[a-z).]) ?(\([0-9]{1,2}\)|[0-9]{1,2})$"

_CLEAN_DROP = re.compile(CLEAN_DROP)
_KEY_DROP = re.compile(KEY_DROP)
_QUALIFIER = re.compile(QUALIFIER)
_STARS = re.compile(STARS)
_FOOTNOTE = re.compile(FOOTNOTE)

LANGUAGES = ("es", "en")


def strip_accents(text: str) -> str:
    """Drop combining marks after canonical decomposition (what DuckDB ``strip_accents`` does)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean(label: str) -> str:
    """Accents off, lower case, only ``a-z 0-9 _ ( ) . *`` kept, single spaces, trimmed."""
    text = strip_accents(label.translate(_SUPERSCRIPT_TABLE)).lower()
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
    """Drop one trailing parenthesised group: ``caiman islas (r. unido)`` -> ``caiman islas``."""
    return _QUALIFIER.sub(r"\1", cleaned)


def strip_footnote(cleaned: str) -> str:
    """Drop a trailing footnote marker (``*``, ``1``, ``(2)``) after a letter, ``)`` or ``.``."""
    return _FOOTNOTE.sub(r"\1", _STARS.sub(r"\1", cleaned))


def candidates(label: str) -> list[str]:
    """The keys to look up, in order; the first one in the alias table wins.

    Duplicates are kept so that the sequence has the same length (4) as the SQL macro's.

    >>> candidates("México (1)")
    ['mexico 1', 'mexico', 'mexico', 'mexico']
    >>> candidates("0-4")
    ['0 4', '0 4', '0 4', '0 4']
    """
    cleaned = clean(label)
    no_footnote = strip_footnote(cleaned)
    return [
        key(cleaned),
        key(strip_qualifier(cleaned)),
        key(no_footnote),
        key(strip_qualifier(no_footnote)),
    ]


@dataclass(frozen=True)
class Member:
    """One code of one code list, with its names."""

    codelist: str
    code: str
    name_es: str
    name_en: str
    sort_order: int
    parent_code: str | None = None

    def name(self, lang: str = "es") -> str:
        return self.name_en if lang == "en" else self.name_es


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class Resolver:
    """Resolves labels to codes and codes to names, from the seeds in one folder."""

    def __init__(self, seeds_dir: Path = SEEDS_DIR) -> None:
        self.seeds_dir = seeds_dir
        self.aliases: dict[str, dict[str, str]] = {}
        for row in _read_csv(seeds_dir / "code_aliases.csv"):
            self.aliases.setdefault(row["codelist"], {})[row["alias"]] = row["code"]
        self.members: dict[str, dict[str, Member]] = {}
        for row in _read_csv(seeds_dir / "code_lists.csv"):
            self._add(
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
            self._add(Member("countries", row["code"], row["name_es"], row["name_en"], order))
        for order, row in enumerate(_read_csv(seeds_dir / "m49_regions.csv")):
            parent = row["parent_code"] or None
            self._add(
                Member("regions", row["region_code"], row["name_es"], row["name_en"], order, parent)
            )
        for order, row in enumerate(_read_csv(seeds_dir / "ports.csv")):
            self._add(Member("ports", row["port_code"], row["name"], row["name"], order))

    def _add(self, member: Member) -> None:
        self.members.setdefault(member.codelist, {})[member.code] = member

    def codelists(self) -> list[str]:
        return sorted(set(self.members) | set(self.aliases))

    def resolve(self, codelist: str, label: str | None) -> str | None:
        """The code a label stands for in a code list, or None when no candidate is known."""
        if label is None:
            return None
        table = self.aliases.get(codelist, {})
        for candidate in candidates(label):
            code = table.get(candidate)
            if code is not None:
                return code
        return None

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


@cache
def default_resolver() -> Resolver:
    """The resolver over the repository's seeds, loaded once per process."""
    return Resolver()


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
