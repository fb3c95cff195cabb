"""Texts in gettext catalogues (migstat.translations): the Spanish catalogue covers every text
Babel extracts, and a third language is a catalogue, not code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook

from migstat.home import REPO_ROOT
from migstat.report import Problem, Report, write_html, write_xlsx
from migstat.translations import LOCALE_DIR, languages

PYBABEL = Path(sys.executable).with_name("pybabel")


def catalogue_ids(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert not [m.id for m in catalog if m.id and m.fuzzy], "fuzzy entries"
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_the_spanish_catalogue_translates_every_extracted_text(tmp_path: Path) -> None:
    template = tmp_path / "migstat.pot"
    extracted = subprocess.run(
        [str(PYBABEL), "extract", "-F", str(LOCALE_DIR / "babel.cfg"), "-o", str(template),
         "--no-location", "--omit-header", "."],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    wanted = set(catalogue_ids(template))
    spanish = catalogue_ids(LOCALE_DIR / "es" / "LC_MESSAGES" / "migstat.po")
    assert wanted - set(spanish) == set(), "texts without a Spanish translation: run pybabel update"
    assert set(spanish) - wanted == set(), "obsolete Spanish entries"
    assert all(spanish.values()), [k for k, v in spanish.items() if not v]


def report() -> Report:
    problem = Problem("error", "ADD-001", "POR_MES", "C9", "10", "12", "Suma ...", "Sum ...")
    return Report(7, "GTM_returns_2023.xlsx", "GTM", "returns", "2023", "quarantined", False,
                  True, [problem])  # fmt: skip


def test_a_third_language_is_a_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    french = home / "locale" / "fr" / "LC_MESSAGES" / "migstat.po"
    french.parent.mkdir(parents=True)
    french.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: fr\\n"\n\n'
        'msgid "Validation report"\nmsgstr "Rapport de validation"\n\n'
        'msgid "Report"\nmsgstr "Rapport"\n\n'
        'msgid "Severity"\nmsgstr "Gravité"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MIGSTAT_HOME", str(home))
    assert languages() == ["es", "en", "fr"]
    html = write_html(report(), tmp_path / "report.html").read_text(encoding="utf-8")
    order = [html.index(t) for t in ("Informe de validación", "Validation report", "Rapport de")]
    assert order == sorted(order), "Spanish first, English, then French"
    assert '<section lang="fr">' in html and "<th>Gravité</th>" in html
    # Untranslated French texts fall back to English rather than disappearing.
    assert html.count("Quarantined: not published; the previously accepted") == 2
    assert "En cuarentena: no se publica" in html
    book = load_workbook(write_xlsx(report(), tmp_path / "report.xlsx"))
    assert book.sheetnames == ["Informe", "Report", "Rapport"]
    assert book["Informe"]["A1"].value == "Informe de validación"


def test_the_site_words_in_a_third_language_are_a_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migstat.publish.datasets import unit_label
    from migstat.publish.i18n import UI, counting_unit_label

    french = tmp_path / "home" / "locale" / "fr" / "LC_MESSAGES" / "migstat.po"
    french.parent.mkdir(parents=True)
    french.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: fr\\n"\n\n'
        'msgid "Product catalogue"\nmsgstr "Catalogue des produits"\n\n'
        'msgid "{n} products"\nmsgstr "{n} produits"\n\n'
        'msgid "{unit} (not persons)"\nmsgstr "{unit} (pas des personnes)"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MIGSTAT_HOME", str(tmp_path / "home"))
    assert languages() == ["es", "en", "fr"]
    words = UI["fr"]
    assert words["catalogue"] == "Catalogue des produits"
    assert words["products_count"].format(n=3) == "3 produits"
    assert words["search"] == "Search", "an untranslated word falls back to English"
    assert UI["es"]["catalogue"] == "Catálogo de productos"
    assert UI["en"]["catalogue"] == "Product catalogue"
    # The unit's name is data (English in a third language); the note around it is a message.
    assert counting_unit_label("events", "fr") == "events (pas des personnes)"
    assert counting_unit_label("events", "es") == "eventos (no personas)"
    assert unit_label("share").es == "proporción"


def test_the_loaders_note_on_a_file_that_is_not_a_workbook_comes_from_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loaders.load import not_workbooks

    home = tmp_path / "home"
    spanish = home / "locale" / "es" / "LC_MESSAGES" / "migstat.po"
    spanish.parent.mkdir(parents=True)
    spanish.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n"Language: es\\n"\n\n'
        'msgid "not a workbook ({kinds}): not read; if it is one, send it with its extension"\n'
        'msgstr "archivo sin leer, no es un libro ({kinds})"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MIGSTAT_HOME", str(home))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "boletin.pdf").write_bytes(b"%PDF-1.4\n")
    [outcome] = not_workbooks([inbox])
    kinds = ".xlsx, .xlsm, .xls, .ods"
    assert outcome.message == (
        f"archivo sin leer, no es un libro ({kinds}) / not a workbook ({kinds}): not read; if it "
        "is one, send it with its extension"
    )
