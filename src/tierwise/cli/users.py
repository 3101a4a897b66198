"""``tierwise user``: add users, set passwords, issue API tokens, assign customers to managers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tierwise.cli.main import ProjectOpt, _fail, app, console
from tierwise.errors import SpecError, TierwiseError

user_app = typer.Typer(help="Users, roles, passwords, API tokens and customer assignments.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")

ActorOpt = Annotated[str | None, typer.Option("--actor", help="who makes the change")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise SpecError("the two passwords differ; run the command again")
    return str(first)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin, supervisor, manager or auditor")],
    project: ProjectOpt = Path("."),
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read the password from standard input (for scripts)")] = False,
    actor: ActorOpt = None,
) -> None:
    """Add a user; the password is asked for (twice) unless read from stdin."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import actor_name, open_store
    from tierwise.store import users

    try:
        secret = _password(password_stdin)
        store = open_store(Project.open(project))
        with store.begin() as conn:
            made = users.create(conn, username, role=role, password=secret,
                                actor=actor_name(actor), display_name=name)
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"user {made.username} ({made.role}) added")


@user_app.command("passwd")
def user_passwd(username: Annotated[str, typer.Argument()], project: ProjectOpt = Path("."),
                password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
                actor: ActorOpt = None) -> None:
    """Set a user's password (their sessions end)."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import actor_name, open_store
    from tierwise.store import users

    try:
        secret = _password(password_stdin)
        store = open_store(Project.open(project))
        with store.begin() as conn:
            users.set_password(conn, username, secret, actor=actor_name(actor))
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"password of {username} set")


@user_app.command("list")
def user_list(project: ProjectOpt = Path(".")) -> None:
    """List the users and their roles."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import open_store
    from tierwise.store import users

    try:
        store = open_store(Project.open(project))
        with store.connect() as conn:
            found = users.listing(conn)
    except TierwiseError as exc:
        _fail(exc)
    table = Table(title="users", title_justify="left")
    for col in ("user", "name", "role", "disabled"):
        table.add_column(col)
    for u in found:
        table.add_row(u.username, u.display_name or "", u.role, "yes" if u.disabled else "")
    console.print(table)


@user_app.command("token")
def user_token(username: Annotated[str, typer.Argument()],
               name: Annotated[str, typer.Option(help="what the token is for")],
               project: ProjectOpt = Path("."), actor: ActorOpt = None) -> None:
    """Issue an API token for scripts (shown once; send it as `Authorization: Bearer ...`)."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import actor_name, open_store
    from tierwise.store import users

    try:
        store = open_store(Project.open(project))
        with store.begin() as conn:
            token_id, secret = users.new_token(conn, username, name, actor=actor_name(actor))
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"token {token_id} for {username}: {secret}")
    console.print("store it now: it is not shown again; revoke with "
                  f"`tierwise user revoke-token {token_id}`")


@user_app.command("revoke-token")
def user_revoke_token(token_id: Annotated[int, typer.Argument()], project: ProjectOpt = Path("."),
                      actor: ActorOpt = None) -> None:
    """Revoke an API token at once."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import actor_name, open_store
    from tierwise.store import users

    try:
        store = open_store(Project.open(project))
        with store.begin() as conn:
            users.revoke_token(conn, token_id, actor=actor_name(actor))
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"token {token_id} revoked")


@user_app.command("assign")
def user_assign(
    username: Annotated[str, typer.Argument(help="a manager")],
    customers: Annotated[list[str] | None, typer.Argument(help="customer ids")] = None,
    from_file: Annotated[Path | None, typer.Option("--file", help="one customer id per line")
                         ] = None,
    project: ProjectOpt = Path("."),
    actor: ActorOpt = None,
) -> None:
    """Assign customers to a manager, who then sees and acts on only those."""
    from tierwise.services.grading import Project
    from tierwise.services.runs import actor_name, open_store
    from tierwise.store import users

    ids = list(customers or [])
    try:
        if from_file is not None:
            ids += [line.strip() for line in from_file.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
        if not ids:
            raise SpecError("name customer ids, or give --file with one id per line")
        store = open_store(Project.open(project))
        with store.begin() as conn:
            n = users.assign(conn, ids, username, actor=actor_name(actor))
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"{n:,} customers assigned to {username}")
