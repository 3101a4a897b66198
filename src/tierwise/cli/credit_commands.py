"""``tierwise credit S``: a credit scheme's points table, its power and its stability.

Per characteristic: its bins with their points and the development sample's share, its
information value and this run's stability (PSI against development); then the hold-out AUC,
Gini and KS and the score's PSI. ``--yaml`` prints the table as ``points_table:`` to paste into
tierwise.yaml, which freezes it: the scheme then grades by it without refitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.formats import day
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import _


def credit(
    scheme: Annotated[str, typer.Argument(help="the credit scheme")],
    run: Annotated[int | None, typer.Option("--run", min=1, help="this run (default: the "
                                                                   "latest official one)")] = None,
    as_yaml: Annotated[bool, typer.Option("--yaml", help="print the table to freeze it")]
    = False,
    project: ProjectOpt = Path("."),
) -> None:
    """A credit scheme's points table, information values, power and stability."""
    from tierwise.services import credit as service

    with reported():
        store = store_of(open_project(project))
        found = service.points_table(store, scheme, run_id=run)
    if as_yaml:
        print(service.frozen_yaml(found), end="")
        return
    model = found.model
    watch = model.metrics.get("monitoring") or {}
    stability = watch.get("characteristics") or {}
    console.print(_("{scheme}: points table of run #{run} as of {as_of} ({how})").format(
        scheme=scheme, run=found.run.id, as_of=day(found.run.as_of),
        how=_("frozen in the scheme") if model.frozen else _("fitted this run")))
    table = listing_table(_("points per bin"), _("characteristic"), _("bin"), _("points"),
                          _("development share"), _("IV"), _("PSI"))
    for char in model.table.characteristics:
        lows = [b.lower for b in char.bins]
        for i, b in enumerate(char.bins):
            upper = lows[i + 1] if i + 1 < len(lows) else None
            span = (f"[{b.lower:g}, " if b.lower is not None else "(-inf, ") + (
                f"{upper:g})" if upper is not None else "inf)")
            table.add_row(char.indicator if i == 0 else "", span, f"{b.points:.2f}",
                          "" if b.share is None else f"{b.share:.1%}",
                          f"{char.iv:.3f}" if i == 0 and char.iv is not None else "",
                          f"{stability[char.indicator]:.4f}"
                          if i == 0 and char.indicator in stability else "")
        table.add_row("", _("missing"), f"{char.missing:.2f}",
                      "" if char.missing_share is None else f"{char.missing_share:.1%}", "", "")
    console.print(table)
    held = model.metrics.get("holdout")
    if held:
        console.print(_("hold-out: AUC {auc}, Gini {gini}, KS {ks} on {rows} customers; bad "
                        "rate {rate:.1%} of {total}").format(
                            rate=model.metrics.get("bad_rate", 0.0),
                            total=model.metrics.get("rows", 0), **held))
    if "psi" in watch:
        console.print(_("score stability against development: PSI {psi:.4f} (under 0.1 "
                        "stable, 0.1-0.25 watch, above 0.25 rebuild)").format(psi=watch["psi"]))
