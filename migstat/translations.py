"""Texts users read, in gettext catalogues: English in the code and templates (the msgids), one
catalogue per other language (``migstat/locale/<lang>/LC_MESSAGES/migstat.po``). A language is
a catalogue, not code: every language with a catalogue is written, Spanish first, then English,
then the others; a catalogue under ``$MIGSTAT_HOME/locale/`` adds or overrides one without
touching the package. Babel extracts the msgids and reads the catalogues (``docs/i18n.md``);
the ``.po`` files are compiled in memory when first used, so no compiled file is kept.

Converted so far: the quality report (:mod:`migstat.report`), the published site's words and
units (:mod:`migstat.publish.i18n`, :mod:`migstat.publish.datasets`), the loader's note on a
file that is not a workbook (:mod:`loaders.load`, through :func:`bilingual`) and the loader's
rejections (:mod:`loaders.limits`, :mod:`loaders.workbook`, :mod:`loaders.parse`,
:mod:`loaders.workers`).
Texts that come from data (rule messages, code list names) keep their own bilingual columns and
fall back to English.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from migstat.home import Home

DOMAIN = "migstat"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
FIRST_LANGUAGES = ("es", "en")


def N_(text: str) -> str:
    """Marks a text for extraction into the catalogues (Babel); it is translated where it is
    shown."""
    return text


def locale_dirs() -> list[Path]:
    """Where catalogues are looked for, the user's first: ``$MIGSTAT_HOME/locale``, shipped."""
    return [Home.from_env().root / "locale", LOCALE_DIR]


def _catalogue(lang: str, dirs: tuple[Path, ...]) -> Path | None:
    for base in dirs:
        path = base / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return None


def languages(dirs: list[Path] | None = None) -> list[str]:
    """Spanish, English, then every other language with a catalogue (alphabetically)."""
    found = {
        path.parent.parent.name
        for base in dirs or locale_dirs()
        if base.is_dir()
        for path in base.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    }
    return [*FIRST_LANGUAGES, *sorted(found - set(FIRST_LANGUAGES))]


@cache
def _translations(lang: str, dirs: tuple[Path, ...]) -> gettext.NullTranslations:
    path = _catalogue(lang, dirs)
    if lang == SOURCE_LANGUAGE or path is None:
        return gettext.NullTranslations()
    # Babel is imported when a catalogue is first read, not with this module: every reader
    # process imports this module for ``N_`` and most never translate (~0.1 s per process).
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def translations(lang: str, dirs: list[Path] | None = None) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the msgids themselves)."""
    return _translations(lang, tuple(dirs or locale_dirs()))


@dataclass(frozen=True)
class Term:
    """A field of a message that is itself a text to translate (an English msgid, marked with
    ``N_``): :func:`translate` gives it in the message's language. Formatted directly, it is
    the English msgid, so ``message.format(**values)`` is the English message."""

    msgid: str

    def __format__(self, spec: str) -> str:
        return format(self.msgid, spec)


@dataclass(frozen=True)
class ByLanguage:
    """A field of a message written for each language (``texts``: language -> text), such as
    code list names; a language without its own text gets the English one."""

    texts: Mapping[str, str]

    def __format__(self, spec: str) -> str:
        return format(self.texts[SOURCE_LANGUAGE], spec)


def translate(lang: str, message: str, **values: object) -> str:
    """``message`` (an English msgid) in ``lang``, its ``str.format`` fields filled from
    ``values`` (a :class:`Term` or :class:`ByLanguage` field in ``lang`` too)."""
    catalogue = translations(lang)
    fields = {
        name: catalogue.gettext(value.msgid)
        if isinstance(value, Term)
        else value.texts.get(lang, value.texts[SOURCE_LANGUAGE])
        if isinstance(value, ByLanguage)
        else value
        for name, value in values.items()
    }
    return catalogue.gettext(message).format(**fields)


def bilingual(message: str, **values: object) -> str:
    """``message`` (an English msgid, ``str.format`` fields filled from ``values``) in Spanish,
    then English, joined by `` / ``: how a terminal line speaks to a country office."""
    return " / ".join(translate(lang, message, **values) for lang in FIRST_LANGUAGES)
