"""A loaded project, and the engine a use case computes in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tierwise.engine import Engine, connect
from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.spec import load_project
from tierwise.spec.limits import check_as_of
from tierwise.spec.loader import declared_language
from tierwise.spec.models import ProjectSpec, SchemeSpec
from tierwise.spec.names import check_scheme_name
from tierwise.store import visibility

#: Projects as users who may not see some schemes see them, by (project, hidden schemes).
_SEEN: dict[tuple[int, frozenset[str]], tuple[Project, Project]] = {}


@dataclass(frozen=True)
class Project:
    """A loaded project: its spec and the folder its relative paths start from."""

    spec: ProjectSpec
    root: Path

    @classmethod
    def open(cls, path: str | Path = ".") -> Project:
        """Load and validate ``tierwise.yaml`` from a folder (or the file itself).

        The root is made absolute: run folders recorded in the store are then found from any
        working folder, not only from the one the run was started in.
        """
        spec, root = load_project(path)
        return cls(spec, root.absolute())

    def as_seen(self) -> Project:
        """The project as the current request's user sees it.

        Without the confidential schemes they may not see (:mod:`tierwise.store.visibility`),
        nor those schemes' KPIs and actions. Outside a request, or for a user who sees
        everything, the project itself.
        """
        hidden = visibility.hidden() & set(self.spec.schemes)
        if not hidden:
            return self
        seen = _SEEN.get((id(self), hidden))
        if seen is None or seen[0] is not self:
            spec = self.spec.model_copy(update={
                "schemes": {k: v for k, v in self.spec.schemes.items() if k not in hidden},
                "kpis": {k: v for k, v in self.spec.kpis.items() if v.scheme not in hidden},
                "actions": {k: v for k, v in self.spec.actions.items()
                            if v.scheme not in hidden}})
            seen = (self, Project(spec, self.root))
            _SEEN[(id(self), hidden)] = seen
        return seen[1]

    @staticmethod
    def declared_language(path: str | Path = ".") -> str | None:
        """The ``language:`` the project file declares, even when the file is invalid."""
        return declared_language(path)

    def scheme(self, name: str) -> SchemeSpec:
        """The scheme called ``name``.

        Raises:
            SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
            NotFoundError: the project has no such scheme.

        """
        check_scheme_name(name)
        hidden = visibility.hidden()  # a confidential scheme the user may not see is missing
        try:
            if name in hidden:
                raise KeyError(name)
            return self.spec.schemes[name]
        except KeyError:
            known = _(", ").join(s for s in self.spec.schemes if s not in hidden) or "none"
            raise NotFoundError(
                _("no scheme {name!r} in {path}; schemes: {known}").format(name=name,
                    path=self.root / 'tierwise.yaml', known=known)
            ) from None

    def as_of(self, given: date | None) -> date:
        """The as-of date: the one given, else the project's, else today.

        Raises:
            SpecError: the date is outside the dates tierwise grades
                (:data:`~tierwise.spec.limits.EARLIEST_AS_OF` to ``LATEST_AS_OF``).

        """
        return check_as_of(given or self.spec.as_of or date.today())

    def output_dir(self, scheme: str, as_of: date) -> Path:
        """Where an unrecorded run of ``scheme`` as of ``as_of`` writes."""
        return self.root / self.spec.output / scheme / as_of.isoformat()

    def run_dir(self, scheme: str, run_id: int) -> Path:
        """Where the recorded run ``run_id`` of ``scheme`` writes."""
        return self.root / self.spec.output / scheme / "runs" / str(run_id)

    def with_spec(self, spec: ProjectSpec) -> Project:
        """The same project folder with another spec (a version's indicators, past sources)."""
        return Project(spec, self.root)

    def for_past_dates(self) -> Project:
        """This project with every timed source ignoring events after the as-of date.

        Grading past dates from today's extracts (a backfill, a model's training window):
        later events are expected, not errors.
        """
        sources = {name: source.model_copy(update={"future_events": "ignore"}) if source.time
                   else source for name, source in self.spec.sources.items()}
        return self.with_spec(self.spec.model_copy(update={"sources": sources}))


@contextmanager
def open_engine(project: Project) -> Iterator[Engine]:
    """The project's engine (DuckDB or Spark), closed when the block ends."""
    engine = connect(project.spec.engine, base=project.root)
    try:
        yield engine
    finally:
        engine.close()
