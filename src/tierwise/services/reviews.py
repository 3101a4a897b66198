"""Periodic reviews of a risk rating: the dates a run keeps, and who is due.

A run of a scheme with a review plan (:func:`tierwise.policies.reviews.plan_of`) adds each
customer's ``rated_on``, ``reviewed_on``, ``review_due`` and ``first_due`` to its grade table,
carried from the previous official run (:func:`tierwise.policies.reviews.with_reviews`). :func:`due` reads them back from
the latest official run: who is overdue, who is due soon, and whose first rating came after its
deadline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from tierwise import methods
from tierwise.errors import TierwiseError
from tierwise.i18n import N_, _, current
from tierwise.methods.risk import DILIGENCE
from tierwise.policies import reviews as policy
from tierwise.services import history as history_service
from tierwise.services.project import Project
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store

__all__ = ["DILIGENCE", "DILIGENCE_SHORT", "STATES", "STATE_NAMES", "Review", "ReviewList", "due"]

#: Review states, most urgent first.
STATES = ("overdue", "due_soon", "ok")
#: Due diligence in a table cell, where the column says "due diligence" (translate with ``_``).
DILIGENCE_SHORT = {"enhanced": N_("enhanced"), "standard": N_("standard"),
                   "simplified": N_("simplified")}
#: Review states as people read them (translate with ``_``).
STATE_NAMES = {"overdue": N_("overdue"), "due_soon": N_("due soon"), "ok": N_("not due")}


@dataclass(frozen=True)
class Review:
    """One customer's review: their level, last review, due date and state on the day asked."""

    customer_id: str
    level: str
    reviewed_on: date
    review_due: date
    state: str
    days: int  # days overdue (positive) or days left (negative is never shown)
    due_diligence: str | None


@dataclass(frozen=True)
class ReviewList:
    """Who is due for review in a scheme's latest official run, on ``today``."""

    scheme: str
    run_id: int
    as_of: date
    today: date
    soon_days: int
    counts: dict[tuple[str, str], int]  # (level, state) -> customers
    reviews: list[Review]  # the listed states, most urgent first
    late_first: list[tuple[str, date, date]]  # (customer, first due, rated on)
    levels: dict[str, str]  # level key -> label in the current language, highest risk first


def due(project: Project, store: Store, scheme: str, *, today: date | None = None,
        soon_days: int | None = None, states: tuple[str, ...] = ("overdue", "due_soon"),
        limit: int | None = None) -> ReviewList:
    """The reviews due in ``scheme``'s latest official run, as of ``today`` (default: now).

    Raises:
        TierwiseError: the scheme has no review plan (it is not a risk rating), or a state
            asked for is unknown.
        NotFoundError: the scheme has no official run yet.

    """
    check_scheme_name(scheme)
    spec = project.scheme(scheme)
    plan = policy.plan_of(spec)
    if plan is None:
        raise TierwiseError(_("scheme {scheme} has no periodic reviews: reviews are planned by "
                              "the review cadence of a `method: risk` scheme").format(
                                  scheme=repr(scheme)))
    wrong = [s for s in states if s not in STATES]
    if wrong:
        raise TierwiseError(_("unknown review state {state}; use {states}").format(
            state=repr(wrong[0]), states=_(", ").join(STATES)))
    run = history_service.latest_run(store, scheme)
    today = today or date.today()
    soon = plan.due_soon_days if soon_days is None else soon_days
    rows = _read(Path(run.folder or "") / "grades.parquet")
    if rows is None:
        raise TierwiseError(_("run #{run} of {scheme} has no review dates: it ran before the "
                              "scheme planned reviews; run the scheme again").format(
                                  run=run.id, scheme=scheme))
    state = policy.status(rows["review_due"], today, soon)
    counts = Counter(zip(rows["tier"].tolist(), state.tolist(), strict=True))
    reviews = [Review(str(rows["customer_id"][i]), str(rows["tier"][i]),
                      rows["reviewed_on"][i].item(), rows["review_due"][i].item(),
                      str(state[i]), (today - rows["review_due"][i].item()).days,
                      rows["due_diligence"][i])
               for i in np.flatnonzero(np.isin(state, list(states)))]
    reviews.sort(key=lambda r: (STATES.index(r.state), r.review_due, r.customer_id))
    # First ratings of this run that came after their deadline.
    first, rated = rows["first_due"], rows["rated_on"]
    late_rows = np.flatnonzero(~np.isnat(first) & (rated > first)
                               & (rated == np.datetime64(run.as_of, "D")))
    late = sorted((str(rows["customer_id"][i]), first[i].item(), rated[i].item())
                  for i in late_rows)
    levels = {t.key: t.label_text(current()) for t in methods.scheme_tiers(spec)}
    return ReviewList(scheme, run.id, run.as_of, today, soon, dict(counts),
                      reviews[:limit] if limit else reviews, late, levels)


def _read(path: Path) -> dict[str, Any] | None:
    """The review columns of a run's grades, as numpy arrays; None when it has none."""
    import pyarrow.parquet as pq

    columns = ["customer_id", "tier", "due_diligence", *policy.REVIEW_COLUMNS]
    if any(c not in pq.read_schema(path).names for c in columns):
        return None
    table = pq.read_table(path, columns=columns)
    out: dict[str, Any] = {}
    for name in columns:
        col = table[name]
        if name in policy.REVIEW_COLUMNS:
            out[name] = col.to_numpy(zero_copy_only=False).astype("datetime64[D]")
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out
