"""``tierwise kpi``: a scheme's KPIs per run and tier, and the effect of its actions.

Each KPI is shown per run and tier (measured at the next run) with the tiers out of their band;
each action of the scheme that declares ``effect:`` is then measured against its control group,
every run pooled, with a 95% interval. Exit code 0; 1 when a tier of the latest measured run is
outside its band (for a scheduler that alerts on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierwise import i18n
from tierwise.cli.common import console, open_project, reported, store_of
from tierwise.cli.formats import day
from tierwise.cli.options import ProjectOpt
from tierwise.cli.render import listing_table
from tierwise.errors import NotFoundError
from tierwise.i18n import _, label_of

if TYPE_CHECKING:
    from tierwise.services.effects import Effect
    from tierwise.services.kpis import KpiPoint
    from tierwise.services.project import Project

def kpi(
    scheme: Annotated[str, typer.Argument(help="the scheme whose KPIs to show")],
    name: Annotated[str | None, typer.Option("--kpi", help="only this KPI")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """KPIs per tier, each run measured at the next one, and the effect of the actions."""
    from tierwise.services import catalog, kpis

    with reported():
        proj = open_project(project)
        wanted = {n: k for n, k in proj.spec.kpis.items()
                  if k.scheme == scheme and (name is None or n == name)}
        measured = [n for n, a in proj.spec.actions.items()
                    if a.scheme == scheme and a.effect is not None] if name is None else []
        if not wanted and not measured:
            console.print(_("scheme {scheme} has no KPI; declare them under `kpis:` in "
                            "tierwise.yaml").format(scheme=scheme))
            return
        store = store_of(proj)
        found = {n: kpis.series(proj, store, n) for n in wanted}
        tiers = catalog.tier_labels(store, scheme, i18n.current()) if found else {}
    alarm = False
    for kpi_name, points in found.items():
        spec = wanted[kpi_name]
        _kpi_table(label_of(spec.label, kpi_name), spec.measure, points, tiers)
        latest = max((p.as_of for p in points), default=None)
        alarm = alarm or any(p.review and p.as_of == latest for p in points)
    if measured:
        with reported():
            _effects(proj, measured)
    if alarm:
        console.print(_("a tier of the latest measured run is outside its band: review it"))
        raise typer.Exit(1)


def _kpi_table(title: str, measure: str, points: list[KpiPoint], tiers: dict[str, str]) -> None:
    from tierwise.services.kpis import MEASURE_NAMES

    table = listing_table(_("{kpi} ({measure})").format(
        kpi=title, measure=_(MEASURE_NAMES.get(measure, measure))),
        _("run"), _("measured"), _("tier"), _("customers"), _("value"), _("band"), _("review"))
    for p in points:
        band = "" if p.band is None else f"{p.band[0]:g} - {p.band[1]:g}"
        table.add_row(day(p.as_of), day(p.measured_as_of), tiers.get(p.tier, p.tier),
                      f"{p.customers:,}", "" if p.value is None else f"{p.value:.4f}", band,
                      _("review") if p.review else "")
    console.print(table)


def _effects(project: Project, names: list[str]) -> None:
    """Each action's effect against its control group, every measured run pooled."""
    from tierwise.services import effects

    store = store_of(project)
    table = listing_table(_("effect of the actions against their control groups"),
                          _("tier action"), _("outcome"), _("runs"), _("treated"), _("holdout"),
                          _("uplift"), _("95% interval"), _("reading"))
    waiting = []
    for name in names:
        try:  # the outcome the action's `effect:` declares
            found = effects.effect(project, store, name, pooled=True)
        except NotFoundError as exc:
            waiting.append(str(exc))
            continue
        table.add_row(label_of(project.spec.actions[name].label, name), _outcome(project, found),
                      _("{first} to {last} ({count})").format(
                          first=day(found.first_as_of or found.run_as_of),
                          last=day(found.run_as_of), count=found.runs),
                      _group_text(found.treated.customers, found.treated.mean),
                      _group_text(found.holdout.customers, found.holdout.mean),
                      "" if found.uplift is None else f"{found.uplift:+.4f}",
                      "" if found.low is None or found.high is None
                      else f"{found.low:+.4f} .. {found.high:+.4f}", _reading(found))
    if table.row_count:
        console.print(table)
    for reason in waiting:
        console.print(reason)


def _outcome(project: Project, found: Effect) -> str:
    spec = project.spec.indicators.get(found.outcome)
    named = label_of(getattr(spec, "label", None), found.outcome)
    return (_("share with {outcome} above 0") if found.rate else _("mean {outcome}")).format(
        outcome=named)


def _group_text(customers: int, mean: float | None) -> str:
    return f"{customers:,}" + ("" if mean is None else f" / {mean:.4f}")


def _reading(found: Effect) -> str:
    if found.low is None or found.high is None:
        return _("a group is empty")
    if found.low > 0 or found.high < 0:
        return _("the interval excludes 0: an effect")
    return _("the interval includes 0: no effect shown")
