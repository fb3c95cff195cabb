"""``migstat portal`` and ``migstat users``: the submission portal's commands (registered in
``migstat.cli`` with one line each)."""

from __future__ import annotations

import json
import os

import typer

from migstat.cli_report import echo_report
from migstat.errors import MigstatError
from migstat.home import Home

PASSWORD_ENV = "MIGSTAT_PASSWORD"

portal_app = typer.Typer(
    help="The submission portal: offices upload workbooks and get their verdict in the browser.",
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="Portal accounts: offices (one country) and coordinators (every country).",
    no_args_is_help=True,
)


def _fail(error: MigstatError) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@portal_app.command("up")
def portal_up(
    port: int = typer.Option(8090, envvar="MIGSTAT_PORTAL_PORT", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (this machine only by default)."),
) -> None:
    """Start the portal (web server + one queue worker) in the background; returns once it
    answers. Running it again keeps a running portal."""
    from migstat.portal.ctl import login_help, up

    home = Home.from_env()
    try:
        url = up(home, port=port, host=host)
    except MigstatError as error:
        raise _fail(error) from error
    typer.echo(login_help(home, url))


@portal_app.command("down")
def portal_down() -> None:
    """Stop this home's portal (uploads still queued are processed at the next `portal up`)."""
    from migstat.portal.ctl import down

    stopped = down(Home.from_env())
    typer.echo(f"stopped {', '.join(stopped)}" if stopped else "the portal was not running")


@portal_app.command("status")
def portal_status(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Whether this home's portal serves, its address, accounts and uploads in progress."""
    from migstat.portal.ctl import status

    echo_report(status(Home.from_env()), as_json=as_json)


def _password() -> tuple[str, bool]:
    from migstat.portal.db import generate_password

    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given, False
    return generate_password(), True


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., "--role", help="office or coordinator."),
    country: str | None = typer.Option(
        None, "--country", help="The office's country (ISO3); offices only."
    ),
) -> None:
    """Create an account. The password is MIGSTAT_PASSWORD when set (12 characters or more),
    otherwise generated and printed once (only its argon2 hash is kept)."""
    from migstat.portal.db import PortalDB
    from migstat.specs import load_specs

    password, generated = _password()
    try:
        code = country.upper() if country else None
        if code and code not in load_specs().countries:
            raise MigstatError(f"unknown reporting country {code!r} (see specs/countries/)")
        with PortalDB(Home.from_env()) as db:
            user = db.add_user(name, role, code, password)
            db.audit("cli", "local", "user added", f"{name} {role} {code or ''}")
    except MigstatError as error:
        raise _fail(error) from error
    typer.echo(f"added {user.name} ({user.role}{' ' + user.country if user.country else ''})")
    if generated:
        typer.echo(f"password (shown once): {password}")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every account with its role, country and whether it is disabled."""
    from migstat.portal.db import PortalDB

    with PortalDB(Home.from_env()) as db:
        users = db.users()
    if as_json:
        typer.echo(json.dumps([user.__dict__ for user in users], indent=1))
        return
    for user in users:
        typer.echo(
            f"{user.name}\t{user.role}\t{user.country or '-'}\t"
            f"{'disabled' if user.disabled else 'active'}"
        )


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...)) -> None:
    """Disable an account: its sessions end and its API tokens are revoked."""
    from migstat.portal.db import PortalDB

    try:
        with PortalDB(Home.from_env()) as db:
            db.disable(name)
            db.audit("cli", "local", "user disabled", name)
    except MigstatError as error:
        raise _fail(error) from error
    typer.echo(f"disabled {name}")


@users_app.command("set-password")
def users_set_password(name: str = typer.Argument(...)) -> None:
    """Set a new password (MIGSTAT_PASSWORD, or generated and printed once); ends sessions."""
    from migstat.portal.db import PortalDB

    password, generated = _password()
    try:
        with PortalDB(Home.from_env()) as db:
            db.set_password(name, password)
            db.audit("cli", "local", "password set", name)
    except MigstatError as error:
        raise _fail(error) from error
    typer.echo(f"new password for {name}" + (f" (shown once): {password}" if generated else ""))


@users_app.command("token")
def users_token(
    name: str = typer.Argument(...),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke every token of the account."),
) -> None:
    """Print a new API bearer token for NAME (shown once, stored hashed), or --revoke them."""
    from migstat.portal.db import PortalDB

    try:
        with PortalDB(Home.from_env()) as db:
            if revoke:
                count = db.revoke_tokens(name)
                db.audit("cli", "local", "tokens revoked", name)
                typer.echo(f"revoked {count} token(s) of {name}")
                return
            token = db.new_token(name)
            db.audit("cli", "local", "token created", name)
    except MigstatError as error:
        raise _fail(error) from error
    typer.echo(token)
