"""Measurement aid: make a published site's bookkeeping agree with this checkout's publishing
code, so that the next ``migstat publish`` renders only what the data asks for.

Every product digest holds a fingerprint of the publishing code (:func:`renderer_fingerprint`),
so after a code change that does not change any page (the open data's writers, say) the next
publish would render every product again. This recomputes each product's digest with this
checkout's code from the site's own tables cache (no product query runs; the warehouse is read
for the names and the data basis) and writes them into ``.migstat-products.json``. With
``--force-datasets ID,ID`` (or ``all``) it also removes those datasets' recorded basis, so the
next publish streams them again.

    MIGSTAT_HOME=/tmp/x .venv/bin/python bench/rehash_products.py SITE WAREHOUSE \\
        [--force-datasets all]

Use it only where the code change is known not to change the rendered products.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from migstat.publish.catalogue import load_catalogue
from migstat.publish.data import Warehouse, table_from_json
from migstat.publish.index import Index
from migstat.publish.products import collect_products
from migstat.publish.site import (
    DIGESTS_FILE,
    Lookups,
    changes_since,
    data_basis,
    product_digest,
    read_tables,
    renderer_fingerprint,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("site", type=Path)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--force-datasets", default="")
    args = parser.parse_args()
    path = args.site / DIGESTS_FILE
    state = json.loads(path.read_text(encoding="utf-8"))
    catalogue = load_catalogue()
    with Warehouse(args.warehouse, spill=True) as warehouse:
        lookups = Lookups(warehouse, catalogue)
        basis = data_basis(warehouse, lookups)
        changes = changes_since(state.get("basis"), basis)
        if changes is None or changes.keys:
            raise SystemExit("the site was not published from this warehouse's data: publish first")
        cached = read_tables(args.site)
        index = Index.open(args.site)
        if cached is None and index is not None:  # a site with the publish index
            cached = {key: table_from_json(table) for key, table in index.tables()}
        if index is not None:
            index.close()
        if cached is None:
            raise SystemExit("the site has no tables cache")
        products = collect_products(
            warehouse,
            catalogue,
            lookups,
            1,
            cached=cached,
            changes=changes,
            tables={},
            reused=set(),
        )
    renderer = renderer_fingerprint()
    digests = {p.id: product_digest(p, lookups, catalogue, renderer) for p in products}
    state["products"] = digests
    forced = args.force_datasets.split(",") if args.force_datasets else []
    parts = state.get("parts") or {}
    for dataset_id in list(parts) if forced == ["all"] else forced:
        parts.pop(dataset_id, None)
    state["parts"] = parts
    path.write_text(json.dumps(state), encoding="utf-8")
    print(f"{len(digests)} product digests rewritten; datasets kept: {sorted(parts)}")


if __name__ == "__main__":
    main()
