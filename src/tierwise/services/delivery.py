"""Delivering planned actions from the ledger: webhooks and file drops.

:func:`deliver` takes an action's due rows (planned, or failed with their next try due) and
delivers them one at a time, recording each outcome in its own transaction right after it:

* ``webhook``: a JSON POST per customer with the headers ``Idempotency-Key`` (the ledger key),
  ``X-Tierwise-Timestamp`` and ``X-Tierwise-Signature: sha256=<hex>``, the HMAC-SHA256 of
  ``timestamp + "." + body`` under the secret in the environment variable the action names.
  A 2xx answer is sent; anything else (an error status, a timeout, a refused connection) is
  tried again after ``backoff_seconds``, doubled each time, up to ``retries`` more tries, then
  the row is ``dead`` (the dead-letter list). Posts keep to ``per_minute``.
* ``file``: one file per run (``<folder>/<action>-run<id>.<format>``) with every customer the
  action reached, written to a temporary name and renamed, then the rows are marked sent in one
  transaction.

A crash between a send and its record leaves the row due: the next call sends it again under
the same idempotency key, so a receiver that keeps the keys it has seen acts exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tierwise import i18n
from tierwise.errors import SpecError, TierwiseError
from tierwise.i18n import _
from tierwise.services import mail, reading, sheets
from tierwise.services.assigning import deliver_assignments
from tierwise.services.project import Project
from tierwise.services.recording import fault_point
from tierwise.spec.actions import (
    ActionSpec,
    AssignSpec,
    EmailSpec,
    FileSpec,
    TagSpec,
    WebhookSpec,
)
from tierwise.store import Store
from tierwise.store.action_ledger import Entry


@dataclass
class Delivered:
    """What one :func:`deliver` call did."""

    action: str
    sent: int = 0
    failed: int = 0
    dead: int = 0
    review: int = 0  # reassignments waiting for approval
    files: list[Path] = field(default_factory=list)


def payload(entry: Entry, task: str | None = None) -> dict[str, Any]:
    """The JSON a webhook receives for one ledger row.

    ``task``: the action's follow-up in the project's language; a row with a follow-up also
    carries its owner and due date.
    """
    out = {"key": entry.key, "action": entry.action, "scheme": entry.scheme,
           "run_id": entry.run_id, "as_of": entry.as_of.isoformat(),
           "customer_id": entry.customer_id, "edge": entry.edge, "from_tier": entry.from_tier,
           "to_tier": entry.to_tier, "value": entry.value}
    if task is not None:
        out |= {"task": task, "owner": entry.owner,
                "due_on": entry.due_on.isoformat() if entry.due_on else None}
    return out


def task_text(project: Project, action: ActionSpec) -> str | None:
    """The action's follow-up task in the project's language (None: it has none)."""
    if action.follow_up is None:
        return None
    with i18n.use(project.spec.language):
        return i18n.label_of(action.follow_up.task, "")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Tierwise-Signature`` of a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def deliver(project: Project, store: Store, name: str, *, now: Callable[[], datetime] | None = None,
            sleep: Callable[[float], None] = time.sleep, limit: int = 100_000) -> Delivered:
    """Deliver the due rows of action ``name`` (at most ``limit``).

    Raises:
        SpecError: no such action, or its webhook secret is not set in the environment.
    """
    action = project.spec.actions.get(name)
    if action is None:
        raise SpecError(_("no action {name} in tierwise.yaml; its actions are {known}").format(
            name=repr(name), known=_(", ").join(project.spec.actions) or "-"))
    settings = action.settings()
    clock = now or (lambda: datetime.now(UTC))
    done = Delivered(name)
    if isinstance(settings, FileSpec | TagSpec):  # one file (or record) for the whole run
        limit = max(limit, 50_000_000)
    with store.read() as tx:
        due = tx.actions.due(name, clock(), limit=limit)
    if not due:
        return done
    task = task_text(project, action)
    if isinstance(settings, WebhookSpec):
        _webhooks(store, settings, due, done, clock, sleep, task)
    elif isinstance(settings, EmailSpec):
        _emails(project, store, settings, due, done, clock)
    elif isinstance(settings, AssignSpec):
        placed = deliver_assignments(project, store, name, action, settings, due, _attributes)
        done.sent, done.dead, done.review = placed.placed, placed.unplaced, placed.review
    elif isinstance(settings, TagSpec):  # a tag lives in the ledger: applying it is recording it
        with store.write() as tx:
            tx.actions.mark_all([e.id for e in due], "sent")
        done.sent = len(due)
    else:
        _files(project, store, action, settings, due, done)
    return done


def _webhooks(store: Store, hook: WebhookSpec, due: list[Entry], done: Delivered,
              clock: Callable[[], datetime], sleep: Callable[[float], None],
              task: str | None) -> None:
    import httpx

    secret = os.environ.get(hook.secret_env)
    if not secret:
        raise SpecError(_("the webhook secret is not set: set the environment variable {env} "
                          "(action {name} signs its posts with it)").format(
            env=hook.secret_env, name=repr(due[0].action)))
    gap = 60.0 / hook.per_minute
    last = 0.0
    with httpx.Client(timeout=hook.timeout_seconds, follow_redirects=False) as client:
        for entry in due:
            wait = last + gap - time.monotonic()
            if wait > 0:
                sleep(wait)
            last = time.monotonic()
            body = json.dumps(payload(entry, task), ensure_ascii=False, sort_keys=True).encode()
            stamp = str(int(clock().timestamp()))
            fault_point("before_send")
            error = _post(client, hook.url, body, {
                "Content-Type": "application/json", "Idempotency-Key": entry.key,
                "X-Tierwise-Timestamp": stamp,
                "X-Tierwise-Signature": signature(secret, stamp, body)})
            fault_point("after_send")
            _record(store, entry, error, (hook.retries, hook.backoff_seconds), done, clock)
            fault_point("after_record")


def _post(client: Any, url: str, body: bytes, headers: dict[str, str]) -> str | None:
    """None when the receiver took it (2xx), else what went wrong."""
    import httpx

    try:
        answer = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return _("no answer within the timeout")
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}: {answer.text[:200]}"


def _record(store: Store, entry: Entry, error: str | None, retry: tuple[int, float],
            done: Delivered, clock: Callable[[], datetime], *, permanent: bool = False) -> None:
    """Record one delivery: sent, failed (tried again after the backoff) or dead.

    ``retry``: the tries after the first and the first backoff in seconds; ``permanent``: the
    failure will not pass on a later try (dead at once).
    """
    retries, backoff = retry
    with store.write() as tx:
        if error is None:
            tx.actions.mark(entry.id, "sent")
            done.sent += 1
        elif permanent or entry.attempts >= retries:  # no try left
            tx.actions.mark(entry.id, "dead", error=error)
            done.dead += 1
        else:
            wait = backoff * 2 ** entry.attempts
            tx.actions.mark(entry.id, "failed", error=error,
                            next_try_at=clock() + timedelta(seconds=wait))
            done.failed += 1


def _emails(project: Project, store: Store, spec: EmailSpec, due: list[Entry], done: Delivered,
            clock: Callable[[], datetime]) -> None:
    smtp = project.spec.smtp
    if smtp is None:
        raise SpecError(_("email actions need the project's `smtp:` server (host, port, from) "
                          "in tierwise.yaml"))
    found = _attributes(project, [e.customer_id for e in due])
    retry = (spec.retries, spec.backoff_seconds)
    with mail.connected(smtp) as server:
        for entry in due:
            try:
                note = mail.message(spec, smtp, entry, found.get(entry.customer_id, {}),
                                    project.spec.language)
            except SpecError as exc:  # no address: no later try will find one
                _record(store, entry, str(exc), retry, done, clock, permanent=True)
                continue
            fault_point("before_send")
            error, permanent = mail.send(server, note)
            fault_point("after_send")
            _record(store, entry, error, retry, done, clock, permanent=permanent)
            fault_point("after_record")


def _attributes(project: Project, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The customers source's columns of ``ids`` (the first row of a repeated id)."""
    import pyarrow as pa

    from tierwise.engine import connect
    from tierwise.sources.read import customer_rows

    if "customers" not in project.spec.sources:
        return {}
    source = reading.customers_source(project)
    engine = connect()
    try:
        rows = customer_rows("customers", source, engine, base=project.root)
        wanted = engine.register_arrow("wanted", pa.table({"_id": ids}))
        table = engine.to_arrow(rows.filter(rows._aid.isin(wanted._id)))
    finally:
        engine.close()
    return {str(row.pop("_aid")): row for row in table.to_pylist()}


def _files(project: Project, store: Store, action: ActionSpec, spec: FileSpec,
           due: list[Entry], done: Delivered) -> None:
    import pyarrow as pa

    folder = project.root / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    by_run: dict[int, list[Entry]] = {}
    for entry in due:
        by_run.setdefault(entry.run_id, []).append(entry)
    for run_id, entries in sorted(by_run.items()):
        with store.read() as tx:  # the whole run's file: rows sent before are in it too
            every = [e for e in tx.actions.entries(entries[0].action, run_id=run_id)
                     if e.status in ("planned", "sent", "failed")]
        rows = [payload(e, task_text(project, action)) for e in every]
        target = folder / f"{entries[0].action}-run{run_id}.{spec.format}"
        _write(pa.Table.from_pylist(rows), target, spec.format)
        fault_point("after_file")
        with store.write() as tx:
            tx.actions.mark_all([e.id for e in entries], "sent")
        done.sent += len(entries)
        done.files.append(target)


def _write(table: Any, target: Path, fmt: str) -> None:
    """Write ``table`` to a temporary file beside ``target``, then rename it into place.

    CSV and Excel have their formulas neutralised (:mod:`tierwise.services.sheets`).
    """
    import pyarrow.parquet as pq

    partial = target.with_name(f".{target.name}.partial")
    try:
        if fmt == "parquet":
            pq.write_table(table, partial)
        elif fmt == "csv":
            sheets.write_csv(table, partial)
        else:
            sheets.write_xlsx(table, partial, "customers")
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TierwiseError(_("could not write {path}: {reason}").format(
            path=target, reason=exc.strerror or exc)) from exc
