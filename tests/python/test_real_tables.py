"""Real tables of the region as offices fill and publish them (issue 9 leftovers and the second
sweep): each case was a false alarm, or a clear error not read as meant, before its fix. The
workbooks are generated here; nothing binary is committed. Real errors still fail loudly."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from fixtures.cli import migstat as run_cli
from limits_corpus import filled_template

from loaders.limits import Limits
from loaders.workers import parse_file
from migstat.errors import WorkbookRejected
from migstat.specs import load_specs

SPECS = load_specs()


def with_country(folder: Path, text: str, name: str = "GTM_returns_2023.xlsx") -> Path:
    path = filled_template(folder, name)
    book = openpyxl.load_workbook(path)
    book["Metadatos"]["B3"] = text
    book.save(path)
    return path


# --- 1. the reporting country written by name in Metadatos!B3 ----------------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Guatemala", "GTM"),
        ("GUATEMALA", "GTM"),
        (" guatemala ", "GTM"),
        ("Rep. Dominicana", "DOM"),
        ("Dominicana, Rep.", "DOM"),
        ("República de Honduras", "HND"),
        ("gtm", "GTM"),
    ],
)
def test_a_country_written_by_name_is_read_as_its_code(
    written: str, code: str, tmp_path: Path
) -> None:
    parsed = parse_file(with_country(tmp_path, written, "returns_2023.xlsx"), SPECS, Limits())
    assert parsed.country_code == code
    if len(written) != 3:
        said = parsed.metadata["read_as"] or ""
        assert f"Metadatos!B3 {written.strip()!r}" in said and f"country {code}" in said


@pytest.mark.parametrize(
    ("written", "closest"),
    [
        ("Guatemla", "GTM Guatemala"),  # a typo: never guessed for the reporting country
        ("Wakanda", "RWA"),
        ("Extranjeros", "-"),  # resolves to XXX in a table, but names no country
        ("Otros países", "-"),
    ],
)
def test_a_country_name_that_does_not_resolve_exactly_is_cod_003_at_its_cell(
    written: str, closest: str, tmp_path: Path
) -> None:
    with pytest.raises(WorkbookRejected) as caught:
        parse_file(with_country(tmp_path, written), SPECS, Limits())
    error = caught.value
    assert (error.rule, error.sheet, error.cell) == ("COD-003", "Metadatos", "B3")
    assert repr(written) in str(error) and closest in str(error)
    assert error.message_es and "códigos más cercanos" in error.message_es


def test_the_load_says_what_country_it_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = with_country(tmp_path / "in", "Guatemala")
    done = run_cli(home, "load", str(path), COLUMNS="300")
    assert done.returncode == 0, done.stderr
    assert "'Guatemala' leído como el país GTM / read as country GTM" in done.stdout


# --- grand totals as offices label them ----------------------------------------------------------


@pytest.mark.parametrize("codelist", ["countries", "regions", "months", "sex", "ports"])
@pytest.mark.parametrize("written", ["Gran total", "GRAN TOTAL 1/", "Suma total"])
def test_a_grand_total_resolves_exactly_in_every_code_list(codelist: str, written: str) -> None:
    """'Gran total' is the total of a row dimension and, as the parent label of the rows under
    it, is also resolved among the regions: an approximate match there gave a COD-002 warning
    on every table labelled so (found end to end by the second sweep)."""
    from migstat import codes

    match = codes.user_resolver().match(codelist, written)
    assert (match.code, match.method) == ("_T", "alias")
