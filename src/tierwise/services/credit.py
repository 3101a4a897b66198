"""A credit scheme's points table as a run fitted it: to read, to monitor and to freeze.

The table is the model (:class:`tierwise.methods.credit.CreditModel`), kept in the run's
``run.json``. :func:`points_table` reads it from a scheme's latest (or a given) run;
:func:`frozen_yaml` writes it in the form a scheme's ``points_table:`` takes, so pasting it into
``tierwise.yaml`` freezes it as a version that grades without refitting.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.i18n import _
from tierwise.methods.credit import CreditModel
from tierwise.services import history as history_service
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store.runs import Run


@dataclass(frozen=True)
class FittedTable:
    """A run's points table and what was measured with it."""

    run: Run
    model: CreditModel


def points_table(store: Store, scheme: str, *, run_id: int | None = None) -> FittedTable:
    """The points table of ``scheme``'s latest official run (or run ``run_id``).

    Raises:
        NotFoundError: no such run, or it kept no points table (not a credit scheme).
        TierwiseError: its ``run.json`` cannot be read.

    """
    check_scheme_name(scheme)
    if run_id is None:
        run = history_service.latest_run(store, scheme)
    else:
        with store.read() as tx:
            run = tx.runs.get(run_id)
        if run.scheme != scheme:
            raise NotFoundError(_("run {id} is a run of {other}, not of {scheme}").format(
                id=run_id, other=run.scheme, scheme=scheme))
    path = Path(run.folder or "") / "run.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError) as exc:
        raise TierwiseError(_("run #{run}: {path} cannot be read ({reason}); run the scheme "
                              "again").format(run=run.id, path=path, reason=exc)) from None
    model = CreditModel.from_json(data) if isinstance(data, dict) else None
    if model is None:
        raise NotFoundError(_("run #{run} of {scheme} has no points table: only a `method: "
                              "credit` scheme keeps one").format(run=run.id, scheme=scheme))
    return FittedTable(run, model)


def frozen_yaml(found: FittedTable) -> str:
    """The table as YAML to paste under the scheme (``points_table:``)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 100
    out = io.StringIO()
    out.write(f"# points table of run #{found.run.id} as of {found.run.as_of}; paste under the "
              "scheme to grade without refitting\n")
    yaml.dump({"points_table": found.model.table.model_dump(mode="json")}, out)
    return out.getvalue()
