"""``tierwise kpi``: each KPI of a scheme per run and tier, with the tiers out of their band.

Exit code 0; 1 when a tier of the latest measured run is outside its band (for a scheduler that
alerts on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.formats import day
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.i18n import _, label_of


def kpi(
    scheme: Annotated[str, typer.Argument(help="the scheme whose KPIs to show")],
    name: Annotated[str | None, typer.Option("--kpi", help="only this KPI")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """KPIs per tier: each run measured at the next one, and the tiers outside their band."""
    from tierwise.services import kpis

    with reported():
        proj = open_project(project)
        wanted = {n: k for n, k in proj.spec.kpis.items()
                  if k.scheme == scheme and (name is None or n == name)}
        if not wanted:
            console.print(_("scheme {scheme} has no KPI; declare them under `kpis:` in "
                            "tierwise.yaml").format(scheme=scheme))
            return
        store = store_of(proj)
        found = {n: kpis.series(proj, store, n) for n in wanted}
    alarm = False
    for kpi_name, points in found.items():
        spec = wanted[kpi_name]
        title = label_of(spec.label, kpi_name)
        table = listing_table(_("{kpi} ({measure})").format(kpi=title, measure=spec.measure),
                              _("run"), _("measured"), _("tier"), _("customers"), _("value"),
                              _("band"), _("review"))
        for p in points:
            band = "" if p.band is None else f"{p.band[0]:g} - {p.band[1]:g}"
            table.add_row(day(p.as_of), day(p.measured_as_of), p.tier, f"{p.customers:,}",
                          "" if p.value is None else f"{p.value:.4f}", band,
                          _("review") if p.review else "")
        console.print(table)
        latest = max((p.as_of for p in points), default=None)
        alarm = alarm or any(p.review and p.as_of == latest for p in points)
    if alarm:
        console.print(_("a tier of the latest measured run is outside its band: review it"))
        raise typer.Exit(1)
