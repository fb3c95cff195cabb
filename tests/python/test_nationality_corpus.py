"""Integrity of the held-out nationality spelling corpus (tests/data/nationality_spellings.csv).

These checks cover the file only (format, uniqueness, code shape); they say nothing about how
well migstat resolves the labels. See tests/data/README.md.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "nationality_spellings.csv"
SPECIAL = {"XXA", "XXX", "OTH", "XKX"}
# ISO 3166-3 codes of dissolved states (as pycountry.historic_countries gives them).
DISSOLVED = {"ANT", "CSK", "DDR", "GEL", "PCZ", "SCG", "SUN", "VDR", "YMD", "YUG"}


def read_corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["label", "expected_code", "source_note"]
        return list(reader)


def test_corpus_parses_with_unique_labels_and_alpha3_codes() -> None:
    rows = read_corpus()
    assert len(rows) >= 350
    labels = [r["label"] for r in rows]
    assert len(labels) == len(set(labels)), "duplicate labels"
    for r in rows:
        assert r["label"].strip(), r
        assert re.fullmatch(r"[A-Z]{3}", r["expected_code"]), r
        assert r["source_note"].strip(), r


def test_corpus_covers_every_kind_of_spelling() -> None:
    rows = read_corpus()
    kinds = {r["source_note"].rsplit(", ", 1)[-1] for r in rows}
    assert {
        "footnote marker",
        "inversion",
        "bracketed qualifier",
        "abbreviation",
        "historical name (dissolved state)",
        "historical name (renamed state)",
        "upper case without accents",
        "whitespace",
        "special category",
    } <= kinds
    codes = {r["expected_code"] for r in rows}
    assert codes >= SPECIAL
    assert codes >= DISSOLVED
    assert any(r["label"] != r["label"].strip() for r in rows), "no leading/trailing spaces"
