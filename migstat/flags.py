"""Observation flags (Eurostat letters: p provisional, e estimated, b break in series, r revised,
c confidential), declared once in ``specs/codes/code_lists.yml`` (``observation_flags``: code,
Spanish and English names, the words offices write) and read from there by the template's
dropdown, the loader's metadata check, the seeds (``scripts/build_seeds.py``) and the published
site's legend."""

from __future__ import annotations

from functools import cache

import yaml

from migstat.home import SPECS_DIR
from migstat.model import Text

CODELIST = "observation_flags"
DEFINITIVE_WORDS = ("definitivo", "definitiva", "definitivas", "definitivos", "final", "definitive")
"""Words that say a number carries no flag (an empty flag means definitive)."""


@cache
def _declared() -> list[dict[str, object]]:
    data = yaml.safe_load((SPECS_DIR / "codes" / "code_lists.yml").read_text(encoding="utf-8"))
    return list(data[CODELIST]["codes"])


def flag_names() -> dict[str, Text]:
    """Every flag letter and its name, in the declared order."""
    return {str(m["code"]): Text(es=str(m["es"]), en=str(m["en"])) for m in _declared()}


def flag_letters() -> tuple[str, ...]:
    return tuple(flag_names())


def read_flag(text: str) -> str | None:
    """The flag letter a metadata cell means (``Preliminar`` -> ``p``), ``""`` for a word saying
    definitive, None when the text is no flag at all."""
    key = text.strip().strip("()[]* ").strip().lower()  # "(p)" as written after a year
    if key in DEFINITIVE_WORDS:
        return ""
    for member in _declared():
        aliases = member.get("aliases") or []
        words = [
            member["code"],
            member["es"],
            member["en"],
            *(aliases if isinstance(aliases, list) else []),
        ]
        if key in {str(word).lower() for word in words}:
            return str(member["code"])
    return None
