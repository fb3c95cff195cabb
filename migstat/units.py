"""Counting units of the measures (spec field ``unit``), named in Spanish and English.

One list for the workbook templates (migstat.workbooks.template) and the published site
(migstat.publish.i18n).
"""

from __future__ import annotations

COUNTING_UNITS: dict[str, tuple[str, str]] = {
    "events": ("eventos", "events"),
    "persons": ("personas", "persons"),
    "permits": ("permisos", "permits"),
    "applications": ("solicitudes", "applications"),
    "decisions": ("resoluciones", "decisions"),
}

NOT_PERSONS: frozenset[str] = frozenset({"events", "permits"})
"""Units a reader could take for persons: the site says next to their name that they are not."""
