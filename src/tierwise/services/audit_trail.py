"""Reading the audit log and the access log, checking the audit chain, pruning old reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tierwise.i18n import N_, _
from tierwise.services.auth import Actor
from tierwise.store import Store
from tierwise.store.access_log import Access
from tierwise.store.audit import AuditEvent, AuditReport

#: What an audit event did, as people read it (the key is the ``action`` in the log).
ACTION_NAMES = {
    "access_log.pruned": N_("access log pruned"),
    "address.locked_out": N_("address locked out"),
    "customer.read": N_("customer page read"),
    "customers.assigned": N_("customers assigned"),
    "customers.exported": N_("customer list exported"),
    "customers.searched": N_("customers searched"),
    "job.started": N_("run started from the dashboard or API"),
    "login.failed": N_("login failed"),
    "login.refused_locked": N_("login refused (locked out)"),
    "override.approved": N_("override approved"),
    "override.created": N_("override created"),
    "override.rejected": N_("override rejected"),
    "override.revoked": N_("override revoked"),
    "run.abandoned": N_("run abandoned"), "run.done": N_("run finished"),
    "run.exported": N_("run exported"), "run.failed": N_("run failed"),
    "run.started": N_("run started"),
    "schedule.changed": N_("schedule changed"), "schedule.created": N_("schedule created"),
    "schedule.deleted": N_("schedule deleted"), "schedule.paused": N_("schedule paused"),
    "schedule.ran": N_("scheduled run finished"), "schedule.resumed": N_("schedule resumed"),
    "scheme.activate": N_("version activated"),
    "scheme.schedule": N_("version scheduled to go live"),
    "scheme.rollback": N_("rolled back to the previous version"),
    "session.revoked": N_("session ended"),
    "token.created": N_("API token created"), "token.revoked": N_("API token revoked"),
    "token.used": N_("API token used"),
    "user.bootstrap": N_("first administrator created"),
    "user.created": N_("user created"), "user.disabled": N_("user disabled"),
    "user.enabled": N_("user enabled"), "user.locked_out": N_("user locked out"),
    "user.logged_in": N_("logged in"), "user.logged_out": N_("logged out"),
    "user.password_set": N_("password set"), "user.role_changed": N_("role changed"),
    "version.created": N_("version saved"),
    "version.texts_updated": N_("version texts updated")}


def action_name(action: str) -> str:
    """An audit event's action in the current language; an unknown action as it is."""
    known = ACTION_NAMES.get(action)
    return _(known) if known else action


#: What an audit event is about, as people read it (``object_type`` in the log; the CLI's
#: ``audit list --type`` and the API take the key).
OBJECT_NAMES = {"access_log": N_("access log"), "address": N_("address"),
                "api_token": N_("API token"), "job": N_("background run"),
                "override": N_("override"), "run": N_("run"),
                "schedule": N_("schedule"), "scheme": N_("scheme"), "scheme_version": N_("scheme version"),
                "user": N_("user"), "customer": N_("customer")}


def object_name(object_type: str) -> str:
    """An audit event's object type in the current language; an unknown type as it is."""
    known = OBJECT_NAMES.get(object_type)
    return _(known) if known else object_type



def events(store: Store, *, object_type: str | None = None, object_id: str | None = None,
           limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    """Audit events, newest first, optionally of one object type or object."""
    with store.read() as tx:
        return tx.audit.events(object_type=object_type, object_id=object_id, limit=limit,
                            offset=offset)


def verify(store: Store) -> AuditReport:
    """Check the audit log's hash chain: every event edited or deleted is a problem."""
    with store.read() as tx:
        return tx.audit.verify()


def reads(store: Store, *, actor: str | None = None, object_id: str | None = None,
          limit: int = 100) -> list[Access]:
    """Access-log entries (who read which customers), newest first."""
    with store.read() as tx:
        return tx.access_log.entries(actor=actor, object_id=object_id, limit=limit)


def prune_reads(store: Store, actor: Actor, before: date) -> int:
    """Delete access-log entries older than ``before``; the pruning is audited.

    The caller checks the actor may manage users (:data:`tierwise.services.access.USERS`).
    """
    with store.write() as tx:
        n = tx.access_log.prune(datetime.combine(before, time(), tzinfo=UTC))
        tx.audit.append(actor=actor.name, action="access_log.pruned",
                     object_type="access_log", object_id="before " + before.isoformat(),
                     after={"deleted": n})
    return n
