"""What the store holds about schemes and runs, read for the edges.

Schemes and their versions and activations, runs and their per-tier counts, and the tiers and
indicators of the version a run graded with: every edge lists and looks these up through here
rather than opening the store itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tierwise import methods
from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.reports import colours
from tierwise.services import history as history_service
from tierwise.services import versions as version_service
from tierwise.spec.schemes import TierSpec
from tierwise.store import Store
from tierwise.store.runs import Run
from tierwise.store.schemes import Activation, Version


@dataclass(frozen=True)
class SchemeState:
    """A scheme in the store and its active version (None before any is activated)."""

    name: str
    active: Version | None


def scheme_names(store: Store, *, retired: bool = False) -> list[str]:
    """The names of the schemes the store has; retired ones only with ``retired``."""
    with store.read() as tx:
        return [i.name for i in tx.schemes.infos() if retired or i.retired_at is None]


def schemes(store: Store, *, retired: bool = False) -> list[SchemeState]:
    """Every scheme in the store with its active version; retired ones only with ``retired``."""
    with store.read() as tx:
        return [SchemeState(i.name, tx.schemes.active_version(i.name))
                for i in tx.schemes.infos() if retired or i.retired_at is None]


def require_scheme(store: Store, name: str) -> None:
    """Refuse a scheme the store has no version of (a retired one is still there)."""
    if name not in scheme_names(store, retired=True):
        raise NotFoundError(_("no scheme {name!r}").format(name=name))


def versions(store: Store, name: str) -> tuple[list[Version], Version | None]:
    """A scheme's versions, oldest first, and its active one."""
    with store.read() as tx:
        return tx.schemes.versions(name), tx.schemes.active_version(name)


def version(store: Store, name: str, number: int) -> Version:
    """Version ``number`` of a scheme."""
    with store.read() as tx:
        return tx.schemes.version(name, number)


def activations(store: Store, name: str) -> list[Activation]:
    """A scheme's activations, as they were made."""
    with store.read() as tx:
        return tx.schemes.activation_list(name)


def tier_labels(store: Store, scheme: str, lang: str) -> dict[str, str]:
    """Tier key -> label in ``lang``, best tier first, from the scheme's active version."""
    return {t.key: t.label_text(lang) for t in scheme_tiers(store, scheme)}


def tier_colours(store: Store, scheme: str) -> dict[str, str]:
    """Tier key -> colour (``#RRGGBB``) of the scheme's active version: each tier keeps its colour."""
    return colours.tier_colours(scheme_tiers(store, scheme))


def scheme_tiers(store: Store, scheme: str) -> list[TierSpec]:
    """The tiers of the scheme's active version, best first; none before one is active."""
    with store.read() as tx:
        active = tx.schemes.active_version(scheme)
    if active is None:
        return []
    return methods.scheme_tiers(version_service.scheme_of(active))


def runs(store: Store, scheme: str, *, every: bool = False) -> list[Run]:
    """A scheme's runs that make its history; ``every``: also failed, superseded, unofficial."""
    with store.read() as tx:
        return (tx.runs.listing(scheme) if every
                else tx.runs.history_runs(scheme))


def latest_graded(store: Store, names: list[str]) -> dict[str, date]:
    """The as-of date of each scheme's latest official run, by name.

    A scheme never run (not in the store yet, as a project's scheme before its first run) has
    none.
    """
    out: dict[str, date] = {}
    with store.read() as tx:
        known = {i.name for i in tx.schemes.infos()}
        for name in names:
            official = [r for r in tx.runs.history_runs(name) if r.official] \
                if name in known else []
            if official:
                out[name] = official[-1].as_of
    return out


def run(store: Store, run_id: int) -> Run:
    """The run with id ``run_id``."""
    with store.read() as tx:
        return tx.runs.get(run_id)


def runs_to_compare(store: Store, *, scheme: str | None = None, to_run: int | None = None,
                    from_run: int | None = None) -> tuple[Run, Run]:
    """The two runs a comparison shows: (from, to).

    ``to_run`` defaults to the latest official run of ``scheme``; ``from_run`` to the official
    run before ``to_run``.
    """
    if to_run is None and scheme is None:
        raise NotFoundError(_("name the run to compare to, or its scheme"))
    new = run(store, to_run) if to_run else history_service.latest_run(store, scheme or "")
    old = run(store, from_run) if from_run else history_service.previous_run(store, new)
    return old, new


@dataclass(frozen=True)
class Grading:
    """What a run's version grades with: its tiers, best first, and the indicators it reads."""

    tiers: list[str]
    indicators: list[str]


def grading_of(store: Store, run: Run) -> Grading:
    """The tiers and indicators of the version ``run`` graded with."""
    with store.read() as tx:
        spec = version_service.scheme_of(tx.schemes.version_by_id(run.version_id))
    return Grading([t.key for t in methods.scheme_tiers(spec)],
                   list(dict.fromkeys(methods.scheme_indicators(spec))))


def tier_counts_by_run(store: Store, scheme: str) -> list[tuple[Run, dict[str, int]]]:
    """Each run of a scheme's history with its customers per tier."""
    with store.read() as tx:
        return [(r, {c.tier: c.customers for c in tx.runs.tier_counts(r.id)})
                for r in tx.runs.history_runs(scheme)]
