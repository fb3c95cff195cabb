"""The portal's own state: accounts, tokens, sessions, uploads, login attempts and the audit log.

One SQLite file (``$MIGSTAT_HOME/portal/portal.sqlite``, WAL mode) shared by the server and the
worker. Passwords and API tokens are stored only as argon2 hashes; a token is looked up by its
public prefix and then verified.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from migstat.errors import MigstatError
from migstat.home import Home

HASHER = PasswordHasher()
ROLES = ("office", "coordinator")
MIN_PASSWORD = 12
SESSION_HOURS = 12
FAILED_LOGINS_PER_NAME = 5
FAILED_LOGINS_PER_ADDRESS = 20
THROTTLE_MINUTES = 15

SCHEMA = """
create table if not exists users (
  name text primary key,
  role text not null,
  country text,
  password_hash text not null,
  disabled integer not null default 0,
  created_at text not null
);
create table if not exists tokens (
  prefix text primary key,
  user_name text not null references users(name),
  token_hash text not null,
  created_at text not null,
  revoked_at text
);
create table if not exists sessions (
  id text primary key,
  user_name text not null references users(name),
  csrf text not null,
  created_at text not null,
  expires_at text not null
);
create table if not exists login_attempts (
  at text not null,
  name text not null,
  address text not null,
  ok integer not null
);
create table if not exists uploads (
  id integer primary key autoincrement,
  user_name text not null,
  country text,
  file_name text not null,
  sha256 text not null,
  size_bytes integer not null,
  stored_path text not null,
  received_at text not null,
  updated_at text not null,
  state text not null,
  submission_id integer,
  message_es text,
  message_en text,
  via text not null
);
create table if not exists audit (
  at text not null,
  user_name text,
  address text,
  action text not null,
  detail text
);
"""

FINAL_STATES = ("published", "quarantined", "rejected", "superseded", "withdrawn", "failed")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def portal_dir(home: Home) -> Path:
    folder = home.root / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class User:
    name: str
    role: str
    country: str | None
    disabled: bool

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    def may_see(self, country: str | None) -> bool:
        """Coordinators see every country; an office only its own."""
        return self.is_coordinator or (country is not None and country == self.country)


class PortalDB:
    """A connection to ``portal.sqlite`` (one per thread or request)."""

    def __init__(self, home: Home) -> None:
        self.path = portal_dir(home) / "portal.sqlite"
        self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.con.row_factory = sqlite3.Row
        self.con.execute("pragma journal_mode = wal")
        self.con.execute("pragma busy_timeout = 30000")
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> PortalDB:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.con.execute("begin immediate")
        try:
            yield self.con
        except BaseException:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, role: str, country: str | None, password: str) -> User:
        if role not in ROLES:
            raise MigstatError(f"unknown role {role!r}: use {' or '.join(ROLES)}")
        if role == "office" and not country:
            raise MigstatError("an office account needs --country ISO3")
        if role == "coordinator" and country:
            raise MigstatError("a coordinator sees every country: leave out --country")
        check_password(password)
        if self.user(name) is not None:
            raise MigstatError(f"user {name!r} exists already (use `migstat users set-password`)")
        self.con.execute(
            "insert into users values (?, ?, ?, ?, 0, ?)",
            (name, role, country, HASHER.hash(password), now()),
        )
        user = self.user(name)
        assert user is not None
        return user

    def user(self, name: str) -> User | None:
        row = self.con.execute(
            "select name, role, country, disabled from users where name = ?", (name,)
        ).fetchone()
        return None if row is None else User(row[0], row[1], row[2], bool(row[3]))

    def users(self) -> list[User]:
        rows = self.con.execute("select name, role, country, disabled from users order by name")
        return [User(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def require_user(self, name: str) -> User:
        user = self.user(name)
        if user is None:
            raise MigstatError(f"no user {name!r} (see `migstat users list`)")
        return user

    def set_password(self, name: str, password: str) -> None:
        self.require_user(name)
        check_password(password)
        self.con.execute(
            "update users set password_hash = ? where name = ?", (HASHER.hash(password), name)
        )
        self.con.execute("delete from sessions where user_name = ?", (name,))

    def disable(self, name: str) -> None:
        self.require_user(name)
        self.con.execute("update users set disabled = 1 where name = ?", (name,))
        self.con.execute("delete from sessions where user_name = ?", (name,))
        self.con.execute(
            "update tokens set revoked_at = ? where user_name = ? and revoked_at is null",
            (now(), name),
        )

    def check_login(self, name: str, password: str) -> User | None:
        row = self.con.execute(
            "select password_hash from users where name = ? and disabled = 0", (name,)
        ).fetchone()
        if row is None:
            # Spend the same time as a real check: no timing difference for unknown names.
            _verify(HASHER.hash("not-a-password"), password)
            return None
        if not _verify(row[0], password):
            return None
        return self.user(name)

    # ----------------------------------------------------------------- tokens
    def new_token(self, name: str) -> str:
        """A new API token for ``name``: printed once, stored as an argon2 hash."""
        user = self.require_user(name)
        if user.disabled:
            raise MigstatError(f"user {name!r} is disabled")
        prefix = secrets.token_hex(6)
        token = f"mgs_{prefix}_{secrets.token_urlsafe(32)}"
        self.con.execute(
            "insert into tokens values (?, ?, ?, ?, null)",
            (prefix, name, HASHER.hash(token), now()),
        )
        return token

    def revoke_tokens(self, name: str) -> int:
        self.require_user(name)
        cursor = self.con.execute(
            "update tokens set revoked_at = ? where user_name = ? and revoked_at is null",
            (now(), name),
        )
        return cursor.rowcount

    def token_user(self, token: str) -> User | None:
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "mgs":
            return None
        row = self.con.execute(
            "select token_hash, user_name from tokens where prefix = ? and revoked_at is null",
            (parts[1],),
        ).fetchone()
        if row is None or not _verify(row[0], token):
            return None
        user = self.user(row[1])
        return None if user is None or user.disabled else user

    # --------------------------------------------------------------- sessions
    def new_session(self, name: str) -> tuple[str, str]:
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        created = datetime.now(UTC)
        self.con.execute(
            "insert into sessions values (?, ?, ?, ?, ?)",
            (
                session_id,
                name,
                csrf,
                created.isoformat(timespec="seconds"),
                (created + timedelta(hours=SESSION_HOURS)).isoformat(timespec="seconds"),
            ),
        )
        return session_id, csrf

    def session(self, session_id: str) -> tuple[User, str] | None:
        row = self.con.execute(
            "select user_name, csrf from sessions where id = ? and expires_at > ?",
            (session_id, now()),
        ).fetchone()
        if row is None:
            return None
        user = self.user(row[0])
        if user is None or user.disabled:
            return None
        return user, row[1]

    def end_session(self, session_id: str) -> None:
        self.con.execute("delete from sessions where id = ?", (session_id,))

    # ------------------------------------------------------------- throttling
    def note_login(self, name: str, address: str, ok: bool) -> None:
        self.con.execute(
            "insert into login_attempts values (?, ?, ?, ?)", (now(), name, address, int(ok))
        )

    def throttled(self, name: str, address: str) -> bool:
        """Too many failed logins for this name or from this address lately."""
        since = (datetime.now(UTC) - timedelta(minutes=THROTTLE_MINUTES)).isoformat(
            timespec="seconds"
        )
        by_name = self.con.execute(
            "select count(*) from login_attempts where name = ? and ok = 0 and at > ?",
            (name, since),
        ).fetchone()[0]
        by_address = self.con.execute(
            "select count(*) from login_attempts where address = ? and ok = 0 and at > ?",
            (address, since),
        ).fetchone()[0]
        return by_name >= FAILED_LOGINS_PER_NAME or by_address >= FAILED_LOGINS_PER_ADDRESS

    # ------------------------------------------------------------------ audit
    def audit(self, user: str | None, address: str | None, action: str, detail: str = "") -> None:
        self.con.execute(
            "insert into audit values (?, ?, ?, ?, ?)", (now(), user, address, action, detail)
        )

    def audit_rows(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.con.execute("select * from audit order by rowid desc limit ?", (limit,))
        return [dict(row) for row in rows]

    # ---------------------------------------------------------------- uploads
    def add_upload(
        self,
        user: User,
        file_name: str,
        sha256: str,
        size_bytes: int,
        stored_path: Path,
        via: str,
    ) -> int:
        stamp = now()
        cursor = self.con.execute(
            "insert into uploads (user_name, country, file_name, sha256, size_bytes, "
            "stored_path, received_at, updated_at, state, via) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, 'received', ?)",
            (
                user.name,
                user.country,
                file_name,
                sha256,
                size_bytes,
                str(stored_path),
                stamp,
                stamp,
                via,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def upload(self, upload_id: int) -> dict[str, Any] | None:
        row = self.con.execute("select * from uploads where id = ?", (upload_id,)).fetchone()
        return None if row is None else dict(row)

    def uploads(self, country: str | None = None, ids: list[int] | None = None) -> list[dict]:
        query = "select * from uploads"
        args: list[Any] = []
        clauses = []
        if country is not None:
            clauses.append("country = ?")
            args.append(country)
        if ids is not None:
            clauses.append(f"id in ({','.join('?' * len(ids))})" if ids else "0")
            args.extend(ids)
        if clauses:
            query += " where " + " and ".join(clauses)
        return [dict(row) for row in self.con.execute(query + " order by id desc", args)]

    def uploads_in(self, *states: str) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(states))
        rows = self.con.execute(
            f"select * from uploads where state in ({marks}) order by id", states
        )
        return [dict(row) for row in rows]

    def set_state(
        self,
        upload_id: int,
        state: str,
        *,
        submission_id: int | None = None,
        message: tuple[str, str] | None = None,
    ) -> None:
        sets = ["state = ?", "updated_at = ?"]
        args: list[Any] = [state, now()]
        if submission_id is not None:
            sets.append("submission_id = ?")
            args.append(submission_id)
        if message is not None:
            sets += ["message_es = ?", "message_en = ?"]
            args += list(message)
        self.con.execute(f"update uploads set {', '.join(sets)} where id = ?", [*args, upload_id])


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise MigstatError(f"a password needs at least {MIN_PASSWORD} characters")


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
