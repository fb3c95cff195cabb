"""The dbt documentation site (lineage graph, every mart and column) for the products site.

``migstat build`` renders it once the build passed, with ``dbt docs generate --static
--no-compile`` on the build file (the build's manifest, the warehouse's catalogue): one
self-contained HTML file that loads nothing from outside, published beside the warehouse as
``<warehouse>.docs.html`` and swapped in with it. ``migstat publish`` copies it to
``docs/index.html`` of the products site.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DOCS_FOLDER = "docs"
EXTERNAL = re.compile(
    r"""\bsrc\s*=\s*["'](?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["'](?:https?:)?//|@import\s+url""",
    re.IGNORECASE,
)
"""A script, stylesheet, image or frame loaded from another host."""
TRACKER = re.compile(r"""src\s*=\s*["']//[a-z0-9.-]+\.cloudfront\.net/[^"']*sp\.js["']""")
"""dbt docs' usage tracker (Snowplow), loaded only when usage stats are on (they are off here):
emptied all the same, so the published page can never call out."""


def docs_path(warehouse: Path) -> Path:
    """Where the dbt docs of ``warehouse`` live (beside it, published with it)."""
    return warehouse.with_suffix(".docs.html")


def external_resources(html: str) -> list[str]:
    """Every attribute of ``html`` that loads something from another host."""
    return [match.group(0) for match in EXTERNAL.finditer(html)]


def offline(html: str) -> str:
    """``html`` (dbt's static docs page) with the usage tracker's address emptied."""
    return TRACKER.sub('src=""', html)


def copy_into_site(warehouse: Path, site: Path) -> Path | None:
    """Copy the warehouse's dbt docs to ``site/docs/index.html`` (atomically; only when they
    changed). None when the warehouse has none (built before docs existed)."""
    source = docs_path(warehouse)
    if not source.exists():
        return None
    target = site / DOCS_FOLDER / "index.html"
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".index.html.{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return target
