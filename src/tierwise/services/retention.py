"""Deleting a scheme's records, and the retention that forbids it too early.

A confidential scheme (an AML risk rating) keeps its records for ``retention_years`` after its
latest run: anti-money-laundering rules ask for five years at least. Until then nothing of it can
be deleted; afterwards, and for any other scheme, :func:`delete_scheme` removes the scheme with
its versions, runs, run files, overrides and action ledger, and the audit log records it.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta

from tierwise.errors import ConflictError
from tierwise.i18n import _
from tierwise.services.project import Project
from tierwise.spec.names import check_scheme_name
from tierwise.spec.schemes import ConfidentialSpec
from tierwise.store import Store
from tierwise.store.repos import Tx
from tierwise.store.runs import RUNNING


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed."""

    scheme: str
    runs: int
    versions: int
    overrides: int
    folder: Path | None


def retained_until(store: Store, scheme: str) -> date | None:
    """The first day ``scheme``'s records may be deleted; None when nothing holds them.

    The longest ``retention_years`` of its confidential versions, counted from its latest run.
    """
    with store.read() as tx:
        return _until(tx, scheme)


def _until(tx: Tx, scheme: str) -> date | None:
    versions = tx.schemes.versions(scheme)
    runs = tx.runs.listing(scheme)
    # Read from the stored form, not the validated model: a version saved under an earlier
    # rule still counts (and its retention still binds).
    secret = [v.spec.get("confidential") for v in versions]
    default = ConfidentialSpec.model_fields["retention_years"].default
    kept = max((int(c.get("retention_years", default)) for c in secret if isinstance(c, dict)),
               default=None)
    if kept is None or not runs:
        return None
    return max(r.as_of for r in runs) + relativedelta(years=kept)


def _check(tx: Tx, scheme: str, today: date) -> None:
    """Refuse while the retention period runs, or while a run of the scheme is running."""
    until = _until(tx, scheme)
    if until is not None and today < until:
        raise ConflictError(_(
            "scheme {scheme} is confidential and its records must be kept until {until} "
            "(retention_years from its latest run); nothing was deleted").format(
                scheme=repr(scheme), until=until.isoformat()))
    running = [r for r in tx.runs.listing(scheme) if r.status == RUNNING]
    if running:
        raise ConflictError(_("run #{run} of {scheme} is running; wait for it to end, then "
                              "delete the scheme").format(run=running[0].id, scheme=scheme))


def delete_scheme(project: Project, store: Store, scheme: str, *, actor: str,
                  today: date | None = None) -> Deleted:
    """Delete ``scheme`` and all its records, unless its retention period still runs.

    The run files go first into a hidden folder beside them, then the store's rows in one
    transaction, then the folder: a failed transaction puts the files back.

    Raises:
        NotFoundError: the store has no such scheme.
        ConflictError: its records must still be kept (the message says until when), or a run
            of it is running.

    """
    check_scheme_name(scheme)
    today = today or date.today()
    folder = project.root / project.spec.output / scheme
    trash = folder.with_name(f".{scheme}.deleting-{uuid.uuid4().hex[:8]}")
    moved = False
    try:
        # Checked and deleted in one transaction, the scheme locked: a run that starts or ends
        # meanwhile waits, or is seen.
        with store.write() as tx:
            tx.schemes.lock(scheme)  # a missing scheme is a NotFoundError
            _check(tx, scheme, today)
            moved = folder.is_dir()
            if moved:
                folder.rename(trash)
            counts = tx.schemes.delete(scheme, actor=actor)
    except BaseException:
        if moved:
            trash.rename(folder)
        raise
    if moved:
        shutil.rmtree(trash, ignore_errors=True)
    return Deleted(scheme, counts["runs"], counts["versions"], counts["overrides"],
                   folder if moved else None)
