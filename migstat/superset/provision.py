"""Provision Superset's metadata from inside its own virtual environment.

Run by ``migstat superset up`` as ``.venv-superset/bin/python -P .../migstat/superset/provision.py``
after ``superset db upgrade`` and ``superset init`` (``-P``: this folder is not put on
``sys.path``, so nothing here shadows a module Superset imports). It imports nothing from migstat
(Superset's environment does not have it). Two jobs, one process (each Superset start-up costs
seconds):

* ``admin``: make sure user ``admin`` exists with the Admin role; set its password when one is
  given (the password arrives on stdin, never on the command line).
* ``import BUNDLE MANIFEST PREVIOUS``: import the bundle with Superset's own
  ``ImportAssetsCommand``, made for assets kept under source control: it overwrites every
  database, dataset, chart and dashboard of the bundle in place, in one transaction. Then delete
  the objects that an earlier import created (``PREVIOUS``) and the YAML no longer has
  (``MANIFEST``), the one thing the command leaves to its caller.

Exit status 0 on success, 1 with a message on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path


def _contents(bundle: Path) -> dict[str, str]:
    """The bundle's files by their path under the root folder (what the importer expects)."""
    with zipfile.ZipFile(bundle) as archive:
        return {
            name.split("/", 1)[1]: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if not name.endswith("/")
        }


def _ensure_admin(password: str | None) -> None:
    from superset.extensions import db

    from superset import security_manager

    role = security_manager.find_role("Admin")
    user = security_manager.find_user(username="admin")
    if user is None:
        if not password:
            raise SystemExit("admin does not exist yet and no password was given")
        created = security_manager.add_user(
            "admin", "Admin", "migstat", "admin@localhost", role, password=password
        )
        if not created:
            raise SystemExit("could not create user admin")
        print("created user admin")
    elif password:
        security_manager.reset_password(user.id, password)
        if role not in user.roles:
            user.roles.append(role)
        db.session.commit()


def _import(bundle: Path, manifest: Path, previous: Path) -> None:
    from flask import g
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db
    from superset.models.core import Database
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    from superset import security_manager

    g.user = security_manager.find_user(username="admin")
    if g.user is None:
        raise SystemExit("user admin does not exist")
    # Always overwrites (the command takes no overwrite flag): databases, datasets, charts,
    # dashboards and their chart links, in one transaction.
    ImportAssetsCommand(_contents(bundle)).run()
    print("imported the bundle (databases, datasets, charts, dashboards)")

    wanted: dict[str, list[str]] = json.loads(manifest.read_text())
    before: dict[str, list[str]] = json.loads(previous.read_text()) if previous.exists() else {}
    models = {
        "dashboards": Dashboard,
        "charts": Slice,
        "datasets": SqlaTable,
        "databases": Database,
    }
    for kind, model in models.items():
        for stale in sorted(set(before.get(kind, [])) - set(wanted.get(kind, []))):
            obj = db.session.query(model).filter(model.uuid == stale).one_or_none()
            if obj is not None:
                db.session.delete(obj)
                print(f"deleted {kind[:-1]} {stale} (no longer in the YAML)")
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="job", required=True)
    admin = sub.add_parser("admin")
    admin.add_argument("--password-stdin", action="store_true")
    imported = sub.add_parser("import")
    imported.add_argument("bundle", type=Path)
    imported.add_argument("manifest", type=Path)
    imported.add_argument("previous", type=Path)
    args = parser.parse_args()

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        try:
            if args.job == "admin":
                password = sys.stdin.read().strip() if args.password_stdin else None
                _ensure_admin(password)
            else:
                _import(args.bundle, args.manifest, args.previous)
        except SystemExit:
            raise
        except Exception as error:
            messages = getattr(error, "normalized_messages", None)
            detail = json.dumps(messages(), indent=1) if callable(messages) else ""
            print(f"error: {type(error).__name__}: {error} {detail}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
