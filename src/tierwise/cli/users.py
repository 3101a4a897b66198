"""``tierwise login`` and ``tierwise user``: who you are, and managing users, roles and tokens.

Commands that change people act as the logged-in user (``tierwise login``, or an API token in
``TIERWISE_TOKEN``), never as a name typed on the command line. A store without users is run by
its local operator until the first admin is added.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from tierwise.cli.common import acting, console, open_project, open_store, reported, store_of
from tierwise.cli.formats import moment, num, word, yes
from tierwise.cli.options import PasswordStdinOpt, ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.errors import SpecError
from tierwise.i18n import _, ngettext

if TYPE_CHECKING:
    from tierwise.services.auth import Actor
    from tierwise.services.grading import Project
    from tierwise.services.records import Store

T = TypeVar("T")
OneUser = Annotated[str | None, typer.Argument(help="one user's")]

user_app = typer.Typer(help="Users, roles, passwords, API tokens, sessions and customer "
                            "assignments.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt(_("password"), hide_input=True)
    if typer.prompt(_("again"), hide_input=True) != first:
        raise SpecError(_("the two passwords differ; run the command again"))
    return str(first)


def _admin(project: Path, *, bootstrap: bool = False) -> tuple[Project, Store, Actor]:
    """The project, its store and the acting user (who must be allowed to manage users)."""
    from tierwise.services import access

    return acting(project, access.USERS, bootstrap=bootstrap)


def _as_admin(project: Path, use: Callable[[Store, Actor], T]) -> T:
    """What ``use(store, actor)`` gives, acting as a user who may manage users."""
    with reported():
        _proj, store, actor = _admin(project)
        done = use(store, actor)
    return done


def login(
    project: ProjectOpt = Path("."),
    username: Annotated[str | None, typer.Option("--user", help="user name (asked if left out)")
                        ] = None,
    password_stdin: PasswordStdinOpt = False,
    days: Annotated[int | None, typer.Option(
        min=1, max=3650, help="how long the login lasts (default security.token_days)")] = None,
) -> None:
    """Log in to the project's store; later commands act as you until `tierwise logout`."""
    from tierwise.services.auth import cli_log_in

    with reported():
        proj = open_project(project)
        name = username or str(typer.prompt(_("user name")))
        secret = (sys.stdin.readline().rstrip("\n") if password_stdin
                  else str(typer.prompt(_("password"), hide_input=True)))
        user, path = cli_log_in(store_of(proj), proj.spec.security, name, secret, days=days)
    console.print(_("logged in as {user} ({role}); token kept in {path}").format(
        user=user.username, role=word(user.role), path=path))


def logout(project: ProjectOpt = Path(".")) -> None:
    """Log out: revoke this machine's login token for the project's store and forget it."""
    from tierwise.services.auth import cli_log_out

    with reported():
        done = cli_log_out(open_store(project))
    console.print(_("logged out") if done else _("not logged in to this project's store"))


def whoami(project: ProjectOpt = Path(".")) -> None:
    """Who the command line acts as for this project's store."""
    from tierwise.services.auth import cli_actor

    with reported():
        actor = cli_actor(open_store(project))
    if actor.user is None:
        console.print(_("{user}: the store has no users, so you act as its local operator")
                      .format(user=actor.name))
    else:
        console.print(f"{actor.name} ({word(actor.user.role)})")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="admin, supervisor, manager, auditor or compliance")],
    project: ProjectOpt = Path("."),
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Add a user; the password is asked for (twice) unless read from stdin.

    The first admin of a store is added without a login (audited as made by the local operator);
    after that, log in as an admin.
    """
    from tierwise.services import people

    with reported():
        _proj, store, actor = _admin(project, bootstrap=role == "admin")
        secret = _password(password_stdin)
        made = people.add(store, actor, username, role=role, password=secret, display_name=name)
    console.print(_("user {user} ({role}) added by {actor}").format(
        user=made.username, role=word(made.role), actor=actor.name))


@user_app.command("passwd")
def user_passwd(username: Annotated[str, typer.Argument()], project: ProjectOpt = Path("."),
                password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False
                ) -> None:
    """Set a user's password (their sessions end); yours, or anyone's as an admin."""
    from tierwise.services import people
    from tierwise.services.auth import cli_actor

    with reported():
        store = open_store(project)
        actor = cli_actor(store)
        people.set_password(store, actor, username, _password(password_stdin))
    console.print(_("password of {user} set").format(user=username))


@user_app.command("list")
def user_list(project: ProjectOpt = Path(".")) -> None:
    """List the users and their roles."""
    from tierwise.services import people

    with reported():
        _proj, store, actor = _admin(project)
        found = people.listing(store, actor)
    table = listing_table(_("users"), _("user"), _("name"), _("role"), _("disabled"))
    for u in found:
        table.add_row(u.username, u.display_name or "", word(u.role), yes(u.disabled))
    console.print(table)


@user_app.command("role")
def user_role(username: Annotated[str, typer.Argument()],
              role: Annotated[str, typer.Argument(help="admin, supervisor, manager, auditor or compliance")],
              project: ProjectOpt = Path(".")) -> None:
    """Give a user another role (their sessions end; a manager's customers are unassigned)."""
    from tierwise.services import people

    with reported():
        _proj, store, actor = _admin(project)
        changed = people.set_role(store, actor, username, role)
    console.print(_("{user} is now a {role}").format(user=changed.username,
                                                    role=word(changed.role)))


def _set_disabled(username: str, project: Path, disabled: bool) -> None:
    from tierwise.services import people

    with reported():
        _proj, store, actor = _admin(project)
        people.set_disabled(store, actor, username, disabled)
    said = _("{user} disabled") if disabled else _("{user} enabled")
    console.print(said.format(user=username))


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")
                 ) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    _set_disabled(username, project, True)


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument()], project: ProjectOpt = Path(".")
                ) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, project, False)


@user_app.command("token")
def user_token(username: Annotated[str, typer.Argument()],
               name: Annotated[str, typer.Option(help="what the token is for")],
               project: ProjectOpt = Path("."),
               days: Annotated[int | None, typer.Option(
                   min=1, max=3650, help="lifetime (default security.token_days)")] = None
               ) -> None:
    """Issue an API token for scripts (shown once; send it as `Authorization: Bearer ...`)."""
    from tierwise.services import people

    with reported():
        proj, store, actor = _admin(project)
        token_id, secret = people.new_token(store, actor, username, name,
                                            days=days or proj.spec.security.token_days)
    console.print(_("token {id} for {user}: {secret}").format(id=token_id, user=username,
                                                             secret=secret))
    console.print(_("store it now: it is not shown again; revoke with {command}").format(
        command=f"`tierwise user revoke-token {token_id}`"))


@user_app.command("tokens")
def user_tokens(username: OneUser = None, project: ProjectOpt = Path(".")) -> None:
    """List API tokens: owner, purpose, expiry and last use (never the secrets)."""
    from tierwise.services import people

    found = _as_admin(project, lambda store, actor: people.tokens(store, actor, username))
    now = datetime.now(UTC)
    table = listing_table(_("API tokens"), "#", _("user"), _("name"), _("created"),
                          _("expires"), _("last used"), _("state"))
    for t in found:
        state = ("revoked" if t.revoked_at else "live" if t.live(now) else "expired")
        table.add_row(str(t.id), t.username, t.name, moment(t.created_at),
                      moment(t.expires_at), moment(t.last_used_at), word(state))
    console.print(table)


@user_app.command("revoke-token")
def user_revoke_token(token_id: Annotated[int, typer.Argument()], project: ProjectOpt = Path(".")
                      ) -> None:
    """Revoke an API token at once."""
    from tierwise.services import people
    from tierwise.services.auth import cli_actor

    with reported():
        store = open_store(project)
        people.revoke_token(store, cli_actor(store), token_id)
    console.print(_("token {id} revoked").format(id=token_id))


@user_app.command("sessions")
def user_sessions(username: OneUser = None, project: ProjectOpt = Path(".")) -> None:
    """List live dashboard and API sessions: who, from where, since when, last seen."""
    from tierwise.services import people

    found = _as_admin(project, lambda store, actor: people.sessions(store, actor, username))
    table = listing_table(_("sessions"), "id", _("user"), _("client"), _("logged in"),
                          _("last seen"), _("ends"))
    for s in found:
        table.add_row(s.id, s.username, s.client or "", moment(s.created_at),
                      moment(s.last_seen_at), moment(s.expires_at))
    console.print(table)


@user_app.command("revoke-session")
def user_revoke_session(session_id: Annotated[str, typer.Argument(help="as `user sessions` "
                                                                       "shows it")],
                        project: ProjectOpt = Path(".")) -> None:
    """End a session at once (the person is logged out)."""
    from tierwise.services import people

    with reported():
        _proj, store, actor = _admin(project)
        ended = people.revoke_session(store, actor, session_id)
    console.print(_("session {id} of {user} ended").format(id=ended.id, user=ended.username))


@user_app.command("assign")
def user_assign(
    username: Annotated[str, typer.Argument(help="a manager")],
    customers: Annotated[list[str] | None, typer.Argument(help="customer ids")] = None,
    from_file: Annotated[Path | None, typer.Option("--file", help="one customer id per line")
                         ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Assign customers to a manager, who then sees and acts on only those."""
    from tierwise.services import people

    ids = list(customers or [])
    with reported():
        if from_file is not None:
            ids += [line.strip() for line in from_file.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
        if not ids:
            raise SpecError(_("name customer ids, or give --file with one id per line"))
        _proj, store, actor = _admin(project)
        n = people.assign(store, actor, ids, username)
    console.print(ngettext("{n} customer assigned to {user}", "{n} customers assigned to {user}",
                           n).format(n=num(n), user=username))
