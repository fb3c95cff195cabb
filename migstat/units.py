"""Counting units of the measures (spec field ``unit``), named in Spanish and English: the one
list the source specs are validated against (migstat.specs), the workbook templates
(migstat.workbooks.template) and the published site (migstat.publish.i18n) read."""

from __future__ import annotations

from migstat.model import Text

COUNTING_UNITS: dict[str, Text] = {
    "events": Text(es="eventos", en="events"),
    "persons": Text(es="personas", en="persons"),
    "permits": Text(es="permisos", en="permits"),
    "applications": Text(es="solicitudes", en="applications"),
    "decisions": Text(es="resoluciones", en="decisions"),
}

NOT_PERSONS: frozenset[str] = frozenset({"events", "permits"})
"""Units a reader could take for persons: the site says next to their name that they are not."""


def known_unit(unit: str) -> str:
    """``unit`` when it is a counting unit; a ValueError naming the known ones otherwise."""
    if unit not in COUNTING_UNITS:
        raise ValueError(f"unknown counting unit {unit!r} (one of {', '.join(COUNTING_UNITS)})")
    return unit
