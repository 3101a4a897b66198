"""Explain a recorded grade: reasons, gap, policy decision and override, from the run's files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from tierwise.engine import lookup_parquet
from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.services import reading
from tierwise.services.history import latest_run
from tierwise.services.overlay import overlay
from tierwise.services.project import Project
from tierwise.services.runs import open_store, scheme_spec
from tierwise.services.texts import SCHEME_ADAPTER, Explanation, render_texts
from tierwise.store import Store


def explain(project: Project, scheme_name: str, customer_id: str, *, as_of: date | None = None,
            store: Store | None = None) -> Explanation:
    """Explain ``customer_id``'s grade in the official run of ``scheme_name`` (latest or as of).

    The scheme may be tierwise.yaml's or one kept in the store only (made in the dashboard).
    In a project graded over linked customers, ``customer_id`` may also be one of the
    customer's records in a system (``shop:S0000017``, or ``S0000017`` alone).
    """
    own = store is None
    store = store or open_store(project)
    try:
        scheme_spec(project, store, scheme_name)
        run = latest_run(store, scheme_name, as_of)
        folder = Path(run.folder or "")
        if not (folder / "grades.parquet").is_file():
            raise NotFoundError(
                _("the files of run {id} ({scheme_name} as of {as_of}) are not at {folder!r}; "
                  "they were moved or deleted, or recorded relative to another working folder. "
                  "Run it again with `tierwise run {scheme_name} --as-of {as_of} --force`").format(
                      id=run.id,
                    scheme_name=scheme_name, as_of=run.as_of, folder=str(folder))
            )
        # One shared DuckDB reads the row groups in parallel and caches the files' footers.
        grades = lookup_parquet([str(folder / "grades.parquet")], CUSTOMER, customer_id)
        if grades.num_rows == 0 and (linked := reading.customer_of(project, customer_id)
                                     ) != customer_id:  # one of a linked customer's records
            customer_id = linked
            grades = lookup_parquet([str(folder / "grades.parquet")], CUSTOMER, customer_id)
        if grades.num_rows == 0:
            raise NotFoundError(
                _("customer {customer_id!r} has no grade in {scheme_name!r} as of {as_of}; "
                  "check the id (ids are case-sensitive)").format(customer_id=customer_id,
                    scheme_name=scheme_name, as_of=run.as_of)
            )
        features = lookup_parquet([str(folder / "features.parquet")], CUSTOMER, customer_id)
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        scheme = SCHEME_ADAPTER.validate_python(info["spec"])
        labels = {name: spec.label for name, spec in project.spec.indicators.items()}
        now = overlay(store, scheme_name, scheme, grades, customer_id=customer_id, day=run.as_of)
        if now.grades.num_rows == 0:  # excluded by an override saved after the run
            graded: dict[str, Any] = {"tier": None, "tier_rank": None, "source": "override",
                                      "override_id": now.override.id if now.override else None,
                                      "override_kind": "exclude", "reasons": "", "gap": None}
        else:
            graded = render_texts(scheme, now.grades, features, as_of=run.as_of,
                                  indicators=labels).to_pylist()[0]
        graded["override_after_run"] = now.changed
        notes = []
        if graded.get("override_id") is not None:
            with store.read() as tx:
                o = tx.overrides.get(int(graded["override_id"]))
            approved = _(", approved by {decided_by}").format(
                decided_by=o.decided_by) if o.decided_by else ""
            notes.append(
                _("override #{id} ({kind}{tier}) by {author}{approved}: {reason}").format(id=o.id,
                    kind=o.kind, tier=' ' + o.tier if o.tier else '', author=o.author,
                    approved=approved, reason=o.reason)
                + (_("; without it the grade would be {tier}, more than one tier away").format(
                    tier=graded.get('policy_tier')) if graded.get("override_flag") else "")
            )
        if notes:
            graded["reasons"] = "; ".join([*notes, str(graded.get("reasons") or "")]).rstrip("; ")
        graded["run_id"] = run.id
        graded["version"] = run.version
        row = features.to_pylist()
        return Explanation(scheme_name, run.as_of, customer_id, graded,
                           {k: v for k, v in (row[0] if row else {}).items() if k != CUSTOMER})
    finally:
        if own:
            store.close()
