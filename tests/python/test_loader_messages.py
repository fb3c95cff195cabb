"""The loader's rejections speak Spanish first, then English, from the gettext catalogue
(docs/i18n.md): the layout, metadata, header and reader rejections of loaders/parse.py,
loaders/workers.py and loaders/load.py are English msgids with a Spanish entry, and
`migstat load` prints both. Real workbooks, real `migstat load` runs."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import openpyxl
import pytest
from fixtures.cli import migstat as run_cli
from limits_corpus import filled_template

from migstat.home import REPO_ROOT
from migstat.translations import translations

MODULES = ("loaders/parse.py", "loaders/workers.py", "loaders/load.py")
HELPERS = {"rejected", "reject", "translated", "translate", "bilingual"}
"""What turns an English msgid into a rejection or a text with its Spanish."""


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_every_rejection_of_the_loader_is_a_msgid_with_its_spanish() -> None:
    """A rejection written as a plain English text, or with a Spanish text of its own beside
    it, fails here; so does a msgid whose Spanish is missing or still English."""
    checked = 0
    for module in MODULES:
        tree = ast.parse((REPO_ROOT / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _name(node.func)
            where = f"{module}:{node.lineno}"
            if called in {"WorkbookRejected", "Rejection"}:
                spanish = next((k.value for k in node.keywords if k.arg == "message_es"), None)
                is_translated = (
                    isinstance(spanish, ast.Call) and _name(spanish.func) in HELPERS
                ) or (
                    # Rejection.of(error) and friends pass on an error's own Spanish
                    isinstance(spanish, ast.Attribute) and spanish.attr == "message_es"
                )
                assert is_translated, f"{where}: {called}(...) without a catalogue's Spanish"
            if called == "N_":
                assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), where
                msgid = node.args[0].value
                spanish_text = translations("es").gettext(msgid)
                assert spanish_text != msgid, f"{where}: no Spanish for {msgid!r}"
                checked += 1
    assert checked >= 30, checked


def _edited(folder: Path, name: str, year: int, cells: dict[str, object]) -> Path:
    path = filled_template(folder, name, year)
    book = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        book["Metadatos"][ref] = value
    book.save(path)
    return path


# name -> (metadata cells changed, rule, cell, the Spanish expected, the English expected)
BROKEN: dict[str, tuple[dict[str, object], str, str, str, str]] = {
    "GTM_returns_2001.xlsx": (
        {"B3": None},
        "STR-META",
        "B3",
        "el campo de metadatos 'país' está vacío",
        "metadata field 'country' is empty",
    ),
    "GTM_returns_2002.xlsx": (
        {"B5": "asylum"},
        "STR-META",
        "B5",
        "la fuente 'asylum' no es la de la plantilla ('returns')",
        "source 'asylum' does not match the template's source 'returns'",
    ),
    "GTM_returns_2003.xlsx": (
        {"B7": "13"},
        "STR-META",
        "B7",
        "primer mes '13' no es un número de mes de 1 a 12",
        "first month '13' is not a month number 1-12",
    ),
    "GTM_returns_2004.xlsx": (
        {"B12": "zz"},
        "STR-META",
        "B12",
        "la marca de observación 'zz' no es ninguna de ",
        "observation flag 'zz' is not one of ",
    ),
    "GTM_returns_2005.xlsx": (
        {"B6": "dos mil cinco"},
        "STR-META",
        "B6",
        "el año de referencia 'dos mil cinco' no es un año",
        "reference year 'dos mil cinco' is not a year",
    ),
    "GTM_returns_2006.xlsx": (
        {"B3": "Guatemalaa del Sur"},
        "COD-003",
        "B3",
        "el país 'Guatemalaa del Sur' no es un código ISO 3166 alfa-3 ni un nombre de país",
        "the country 'Guatemalaa del Sur' is neither an ISO 3166 alpha-3 code nor a country name",
    ),
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, tuple[str, ...]]]:
    root = tmp_path_factory.mktemp("messages")
    folder = root / "inbox"
    for name, (cells, *_) in BROKEN.items():
        _edited(folder, name, int(name[-9:-5]), cells)
    no_metadata = filled_template(folder, "GTM_returns_2007.xlsx", 2007)
    book = openpyxl.load_workbook(no_metadata)
    del book["Metadatos"]
    book.save(no_metadata)
    wiped = filled_template(folder, "GTM_returns_2008.xlsx", 2008)
    book = openpyxl.load_workbook(wiped)
    for cell in book["POR_MES_SEXO"][5]:
        cell.value = None
    book.save(wiped)
    home = root / "home"
    run = run_cli(home, "load", str(folder))
    assert run.returncode == 1, run.stderr
    with duckdb.connect(str(home / "warehouse" / "landing.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select file_name, status, error_rule, error_cell, error_message, error_message_es "
            "from raw.submissions"
        ).fetchall()
    return run.stderr, {row[0]: row[1:] for row in rows}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_metadata_rejection_is_stored_and_printed_in_spanish_then_english(
    loaded: tuple[str, dict[str, tuple[str, ...]]], name: str
) -> None:
    stderr, verdicts = loaded
    _, rule, cell, spanish, english = BROKEN[name]
    status, got_rule, got_cell, message, message_es = verdicts[name]
    assert (status, got_rule, got_cell) == ("rejected", rule, cell)
    assert message.startswith(english), message
    assert message_es.startswith(spanish), message_es
    line = next(line for line in stderr.splitlines() if name in line)
    assert f"{message_es} / {message}" in line, "Spanish first, then English"


def test_the_closest_countries_are_named_in_each_language(
    loaded: tuple[str, dict[str, tuple[str, ...]]],
) -> None:
    *_, message, message_es = loaded[1]["GTM_returns_2006.xlsx"]
    closest_es = message_es.split("códigos más cercanos: ")[1]
    closest_en = message.split("closest codes: ")[1]
    assert closest_es.startswith("GTM Guatemala"), closest_es
    assert closest_es != closest_en or "Guatemala" in closest_en


@pytest.mark.parametrize(
    ("name", "spanish", "english"),
    [
        (
            "GTM_returns_2007.xlsx",
            "ningún formato de lectura reconoce este libro (se buscó en 'Cuadro 3.1'!A1; "
            "'Metadatos'!B9); ¿falta la hoja Metadatos",
            "no layout recognises this workbook (looked at 'Cuadro 3.1'!A1; 'Metadatos'!B9)",
        ),
        (
            "GTM_returns_2008.xlsx",
            "no hay encabezados de columna en la fila 5",
            "no column headers found in row 5",
        ),
    ],
)
def test_a_layout_or_header_rejection_speaks_spanish_without_english_words(
    loaded: tuple[str, dict[str, tuple[str, ...]]], name: str, spanish: str, english: str
) -> None:
    *_, message, message_es = loaded[1][name]
    assert message.startswith(english), message
    assert message_es.startswith(spanish), message_es
    for word in ("sheet", "cell", "layout", "labels", "expected"):
        assert word not in message_es.split("(migstat")[0], (word, message_es)
