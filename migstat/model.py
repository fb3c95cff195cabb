"""The two pydantic models every typed spec and catalogue builds on: one strict base and one
bilingual text. Specs, layouts, countries, rules, products, dashboards and loader limits all use
them, so a typo in any YAML key fails the same way everywhere, and a text users read is always
the same shape (Spanish first, English second)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors and values are immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text users read: Spanish first, English second. May hold ``{param}`` placeholders."""

    es: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``es`` or ``en``)."""
        return self.es if lang == "es" else self.en

    def format(self, params: dict[str, object]) -> Text:
        """Both languages with ``{param}`` placeholders filled in."""
        return Text(es=self.es.format_map(params), en=self.en.format_map(params))

    def lower(self) -> Text:
        return Text(es=self.es.lower(), en=self.en.lower())
