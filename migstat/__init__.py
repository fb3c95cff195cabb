"""migstat: migration statistics for Mesoamerica and the Caribbean."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _version() -> str:
    """The version declared once, in pyproject.toml: from the installed distribution's metadata,
    or from pyproject.toml itself when the package runs from a tree that is not installed."""
    try:
        return version("migstat")
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


__version__ = _version()
