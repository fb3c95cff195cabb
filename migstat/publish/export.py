"""Export the published datasets: SDMX-CSV 2.0 data, SDMX-ML 3.0 structures, JSON-stat 2.0,
and the catalogue ``datasets.json`` that the static data API serves (``api/v1/`` on the site)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from migstat.errors import MigstatError
from migstat.publish import sdmx
from migstat.publish.data import Warehouse
from migstat.publish.datasets import CHUNK_ROWS, Dataset, load_datasets
from migstat.publish.jsonstat import write_dataset

FORMATS = ("sdmx-csv", "sdmx-ml", "json-stat")
CATALOGUE = "datasets.json"


@dataclass(frozen=True)
class ExportResult:
    datasets: int
    files: list[Path]
    seconds: float

    @property
    def largest_json(self) -> tuple[Path, int] | None:
        sizes = [(f, f.stat().st_size) for f in self.files if f.suffix == ".json"]
        sizes = [s for s in sizes if s[0].name != CATALOGUE]
        return max(sizes, key=lambda s: s[1]) if sizes else None


def dataset_files(dataset_id: str) -> dict[str, list[str]]:
    """File names of one dataset per format (relative to the export folder)."""
    return {
        "sdmx-csv": [f"{dataset_id}.sdmx.csv"],
        "sdmx-ml": [f"{dataset_id}.structure.xml"],
        "json-stat": [f"{dataset_id}.json", f"{dataset_id}.en.json"],
    }


def catalogue_entry(dataset: Dataset, formats: tuple[str, ...]) -> dict[str, object]:
    files = dataset_files(dataset.id)
    return {
        "id": dataset.id,
        "title": {"es": dataset.name.es, "en": dataset.name.en},
        "description": {"es": dataset.description.es, "en": dataset.description.en},
        "counting_unit": dataset.counting_unit,
        "dimensions": [
            {"id": d.id, "label": {"es": d.name.es, "en": d.name.en}, "codes": len(d.codes)}
            for d in dataset.dimensions
        ],
        "observations": dataset.count,
        "last_update": dataset.last_update,
        "submissions": dataset.submissions,
        "structure": {"agency": "MIGSTAT", "dsd": dataset.dsd_id, "dataflow": dataset.dataflow_id},
        "files": {f: files[f] for f in formats},
    }


def write_datasets(
    warehouse: Warehouse,
    datasets: list[Dataset],
    out: Path,
    formats: tuple[str, ...] = FORMATS,
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    only: set[str] | None = None,
) -> list[Path]:
    """Write the files of every dataset (or of those whose id is in ``only``: the others are
    already in ``out``) and the catalogue of them all into ``out``, each dataset's observations
    streamed from ``warehouse`` ``chunk_rows`` at a time."""
    now = now or datetime.now().astimezone()
    updated = now.isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for dataset in datasets:
        if only is not None and dataset.id not in only:
            continue
        names = dataset_files(dataset.id)
        if "sdmx-csv" in formats:
            files.append(
                sdmx.write_data_csv(warehouse, dataset, out / names["sdmx-csv"][0], chunk_rows)
            )
        if "sdmx-ml" in formats:
            files.append(sdmx.write_structure(dataset, out / names["sdmx-ml"][0]))
        if "json-stat" in formats:
            paths = {
                lang: out / name
                for lang, name in zip(("es", "en"), names["json-stat"], strict=True)
            }
            files += write_dataset(warehouse, dataset, paths, updated, chunk_rows)
    catalogue = {
        "version": "v1",
        "generated": updated,
        "formats": list(formats),
        "datasets": [catalogue_entry(d, formats) for d in datasets],
    }
    path = out / CATALOGUE
    path.write_text(json.dumps(catalogue, ensure_ascii=False, indent=1, default=str), "utf-8")
    files.append(path)
    return files


def export(
    warehouse_path: Path,
    out: Path,
    formats: tuple[str, ...] = FORMATS,
    dataset: str | None = None,
) -> ExportResult:
    """Read the published warehouse and write the chosen formats of every dataset (or one)."""
    started = time.perf_counter()
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        choices = ", ".join(FORMATS)
        raise MigstatError(f"unknown export format {unknown[0]!r}: choose from {choices}")
    with Warehouse(warehouse_path, spill=True) as warehouse:
        datasets = load_datasets(warehouse, dataset)
        if dataset and not datasets:
            known = ", ".join(d.id for d in load_datasets(warehouse))
            raise MigstatError(f"no dataset {dataset!r} in the published warehouse: {known}")
        files = write_datasets(warehouse, datasets, out, formats)
    return ExportResult(len(datasets), files, time.perf_counter() - started)
