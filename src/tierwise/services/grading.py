"""Unrecorded runs: grade schemes as of a date into a scratch folder, without the store.

A run loads and checks the sources, computes the schemes' indicators as of a date, grades, and
writes the grades and the indicator values as Parquet into ``<output>/<scheme>/<as_of>/`` (see
:mod:`tierwise.services.pipeline` for the steps, which recorded runs share). The files are written
under temporary names and moved into place last, so a failed run leaves no output.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.methods.fitted import FittedModel
from tierwise.methods.rules import RuleAnalysis
from tierwise.policies.reviews import with_reviews
from tierwise.reports.summary import TierRow, summary_from_counts
from tierwise.services.features import Features, check, load_inputs, prepare_features
from tierwise.services.pipeline import Graded, Progress, Settled, Shared, execute
from tierwise.services.project import Project, open_engine
from tierwise.services.resolved import ResolvedScheme
from tierwise.services.run_files import EXPORT_FORMATS
from tierwise.services.texts import Explanation, render_texts
from tierwise.sources.checks import QualityReport

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine

__all__ = [
    "Explanation",
    "Project",
    "RunResult",
    "check",
    "check_exports",
    "load_inputs",
    "render_texts",
    "run",
    "run_schemes",
]


@dataclass
class RunResult:
    """What a run produced."""

    scheme: str
    as_of: date
    folder: Path
    customers: int
    tiers: list[TierRow]
    quality: QualityReport
    analysis: RuleAnalysis | None = None
    timings: dict[str, float] = field(default_factory=dict)
    exports: list[Path] = field(default_factory=list)


def check_exports(export: list[str]) -> None:
    """Refuse an export format tierwise does not write."""
    for fmt_name in export:
        if fmt_name not in EXPORT_FORMATS:
            raise SpecError(_("unknown export format {fmt_name!r}; use csv or xlsx").format(
                fmt_name=fmt_name))


def run(
    project: Project,
    scheme_name: str,
    *,
    as_of: date | None = None,
    drop_bad_rows: bool = False,
    export: list[str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Grade every customer with one scheme and write the results.

    Args:
        project: the project.
        scheme_name: the scheme to run.
        as_of: the as-of date (default: the project's, else today).
        drop_bad_rows: grade without rows that fail a check (counted in the report) instead of
            refusing to grade.
        export: extra formats to write beside the Parquet file: ``csv`` and/or ``xlsx``.
        progress: called with the name of each step as it starts.

    Raises:
        DataError: when a source fails its checks (and bad rows are kept).

    """
    return run_schemes(project, [scheme_name], as_of=as_of, drop_bad_rows=drop_bad_rows,
                       export=export, progress=progress)[0]


def run_schemes(
    project: Project,
    scheme_names: list[str],
    *,
    as_of: date | None = None,
    drop_bad_rows: bool = False,
    export: list[str] | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Grade every customer with several schemes from one load, one check and one feature table.

    The sources are read and checked once and the union of the schemes' indicators is computed
    once; each scheme then grades the same feature table and writes its own results. Arguments
    are those of :func:`run`.
    """
    if not scheme_names:
        raise SpecError(_("name at least one scheme to run"))
    schemes = [ResolvedScheme.of(name, project.scheme(name),
                                 reported=project.spec.reporting.value)
               for name in dict.fromkeys(scheme_names)]
    day = project.as_of(as_of)
    check_exports(export or [])
    target = _Scratch(project, day, list(export or []), drop_bad_rows)
    return execute(target, schemes, day, progress or (lambda _: None))


@dataclass
class _Scratch:
    """The pipeline's target for an unrecorded run: a folder per scheme and date, no store.

    Nothing is carried from an earlier run: no previous model (a method that learns fits
    afresh), no stability policy, no overrides.
    """

    project: Project
    day: date
    export: list[str]
    drop_bad_rows: bool

    def engine(self) -> AbstractContextManager[Engine]:
        return open_engine(self.project)

    def features(self, engine: Engine, indicators: list[str]) -> Features:
        return prepare_features(self.project, engine, as_of=self.day, indicators=indicators,
                                drop_bad_rows=self.drop_bad_rows, keep_state=True)

    def folder(self, scheme: ResolvedScheme) -> Path:
        return self.project.output_dir(scheme.name, self.day)

    def previous_model(self, scheme: ResolvedScheme) -> FittedModel | None:
        return None

    def previous_tiers(self, engine: Engine, scheme: ResolvedScheme) -> ir.Table | None:
        return None  # not recorded: no previous run to read

    def settle(self, engine: Engine, scheme: ResolvedScheme, raw: ir.Table,
               features: ir.Table) -> Settled:
        return Settled(with_reviews(engine, scheme.spec, raw, None, self.day, scheme.name))

    def extra(self, engine: Engine, scheme: ResolvedScheme, grades: ir.Table
              ) -> dict[str, ir.Table]:
        return {}

    def info(self, scheme: ResolvedScheme) -> dict[str, Any]:
        return {}

    def fault(self, point: str) -> None:
        pass

    def tally(self, engine: Engine, graded: Graded) -> None:
        return None

    def record(self, graded: Graded, shared: Shared) -> RunResult:
        assert graded.facts is not None
        scheme = graded.scheme
        summary = summary_from_counts(graded.facts.by_tier, list(scheme.tiers),
                                      value=scheme.spec.value)
        return RunResult(scheme.name, self.day, graded.folder, graded.facts.rows, summary,
                         shared.quality, graded.analysis, {**shared.timings, **graded.timings},
                         graded.exports)
