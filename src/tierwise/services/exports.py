"""Exports of a recorded run for people: grades with rendered reasons and gaps, CSV or Excel.

Text cells that a spreadsheet would run as a formula are neutralised, see
:mod:`tierwise.services.sheets`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.services.export_columns import check_columns, for_people
from tierwise.services.sheets import sheet_bytes
from tierwise.services.texts import SCHEME_ADAPTER, render_texts
from tierwise.spec.columns import CUSTOMER
from tierwise.store import Store
from tierwise.store import runs as store_runs


def export_run(store: Store, run_id: int, *, fmt: str = "csv",
               visible: set[str] | None = None, actor: str | None = None,
               client: str | None = None, columns: str = "people") -> bytes:
    """The run's grades (only ``visible`` customers when given) as CSV or Excel bytes.

    ``columns="people"`` (the default) names the columns in the current language and adds each
    tier's label, description and strategy; ``columns="keys"`` keeps the stable column keys for
    other systems (:mod:`tierwise.services.export_columns`). With ``actor``, the export is recorded in the audit log (who took how many customers of
    which run, in which format): exports are data leaving tierwise.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if fmt not in ("csv", "xlsx"):
        raise SpecError(_("unknown export format {format}; use csv or xlsx").format(
            format=repr(fmt)))
    kind = check_columns(columns)
    with store.read() as tx:
        run = tx.runs.get(run_id)
    if run.status != store_runs.DONE or not run.folder:
        raise SpecError(_("run {run} is {status}; only a done run can be exported").format(
            run=run_id, status=run.status))
    folder = Path(run.folder)
    grades = pq.read_table(folder / "grades.parquet")
    features = pq.read_table(folder / "features.parquet")
    if visible is not None:
        keep = pa.array(sorted(visible), pa.string())
        grades = grades.filter(pc.is_in(grades[CUSTOMER], value_set=keep))
        features = features.filter(pc.is_in(features[CUSTOMER], value_set=keep))
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    scheme = SCHEME_ADAPTER.validate_python(info["spec"])
    readable = render_texts(scheme, grades, features, as_of=run.as_of)
    if kind == "people":
        readable = for_people(readable, getattr(scheme, "tiers", None) or [])
    content = sheet_bytes(readable, fmt, run.scheme)
    if actor is not None:
        with store.write() as tx:
            tx.audit.append(actor=actor, action="run.exported", object_type="run",
                         object_id=str(run_id),
                         after={"format": fmt, "customers": readable.num_rows,
                                "scheme": run.scheme, "as_of": run.as_of,
                                "client": (client or "")[:100],
                                "only_assigned": visible is not None})
    return content
