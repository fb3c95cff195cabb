"""Shared fixtures of the Python tests; helpers live in ``tests/python/fixtures/``.

* ``home``: a fresh, empty ``MIGSTAT_HOME`` for one test (``fixtures.cli.migstat`` runs the
  CLI in it);
* ``browser``: one headless Chromium for the session (skipped when Debian's chromium is missing).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Test helpers (fixtures/, gallery.py, ...) import as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))

from fixtures.browser import CHROMIUM, launch_chromium


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty MIGSTAT_HOME (not created: migstat creates what it needs)."""
    return tmp_path / "home"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system-deps)")
    with launch_chromium() as chromium:
        yield chromium
