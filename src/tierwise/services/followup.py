"""What happens after a version is activated: which date to grade again for it to show.

Versions take effect by as-of date (:func:`tierwise.services.versions.activate`): activating
"now" means from the as-of date of the scheme's latest official run, so the grades people see
change only when that date is graded again. This module says so, and which run does it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store.schemes import FOREVER

#: The version is active from the latest graded date: a forced re-run of it shows the version.
RERUN = "rerun"
#: The scheme was never graded: its first run grades with the version.
FIRST = "first"
#: The version takes effect after the latest graded date: grading that date shows it.
LATER = "later"


@dataclass(frozen=True)
class AfterActivation:
    """What an activation changes and which run makes it visible.

    Attributes:
        scheme: the scheme.
        version: the version activated.
        case: :data:`RERUN`, :data:`FIRST` or :data:`LATER`.
        effective_from: the first as-of date the version grades (None: every date).
        latest: the as-of date of the scheme's latest official run (None: never graded).
        can_run: whether a run now can show the version (not before a future go-live date).
        run_as_of: the date that run grades (None: the project's as-of rule).
        force: whether that run grades a date that is already done again.

    """

    scheme: str
    version: int
    case: str
    effective_from: date | None
    latest: date | None
    can_run: bool
    run_as_of: date | None
    force: bool


def after_activation(store: Store, scheme: str, version: int, *,
                     today: date | None = None) -> AfterActivation:
    """What the latest activation of ``version`` of ``scheme`` changes, and the run to start.

    Raises:
        SpecError: ``scheme`` breaks the scheme-name rule.
        NotFoundError: ``version`` of ``scheme`` was never activated.

    """
    check_scheme_name(scheme)
    day = today or date.today()
    with store.read() as tx:
        activations = [a for a in tx.schemes.activation_list(scheme) if a.version == version]
        history = tx.runs.history_runs(scheme)
    if not activations:
        raise NotFoundError(_("version {version} of scheme {scheme!r} was never activated")
                            .format(version=version, scheme=scheme))
    effective = max(activations, key=lambda a: a.id).effective_from
    latest = history[-1].as_of if history else None
    every_date = effective <= FOREVER
    shown = None if every_date else effective
    if latest is None:
        return AfterActivation(scheme, version, FIRST, shown, None, effective <= day, None,
                               False)
    if effective <= latest:
        return AfterActivation(scheme, version, RERUN, shown, latest, True, latest, True)
    return AfterActivation(scheme, version, LATER, effective, latest, effective <= day,
                           effective, False)
