"""Editing a scheme before saving it: the impact of an unsaved edit on the active version's grades.

:func:`tierwise.services.history.preview` compares two *stored* versions. An editor wants to see
what an edit would change before anything is saved, so :func:`preview_spec` grades the edited
spec (validated like the YAML file, see :func:`tierwise.services.versions.with_scheme`) and the
active version on the same features, and compares them. Nothing is written to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.reports.transitions import Transitions
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.services.history import compare_schemes, with_indicators
from tierwise.store import Store


@dataclass
class SpecPreview:
    """An unsaved edit of a scheme against its active version on the same data."""

    scheme: str
    as_of: date
    active: int
    transitions: Transitions
    tiers: list[str]


def preview_spec(project: Project, store: Store, name: str, spec: dict[str, Any], *,
                 as_of: date | None = None, samples: int = 5,
                 timeout: float | None = None) -> SpecPreview:
    """Compare the edited ``spec`` of scheme ``name`` with its active version; saves nothing.

    Both sides are computed tiers, before stability policies and overrides, as in
    :func:`tierwise.services.history.preview`.

    Raises:
        SpecError: the edited scheme is invalid (every problem with its field path).
        NotFoundError: the scheme has no active version on the as-of date.
        QueryTimeout: grading ran past ``timeout`` seconds (None, the default: no limit).

    """
    edited = version_service.with_scheme(project, name, spec)
    new_spec = edited.scheme(name)
    day = project.as_of(as_of)
    with store.read() as tx:
        active = tx.schemes.active_version(name, day)
    if active is None:
        raise NotFoundError(_("scheme {name!r} has no active version on {day}; save and "
                              "activate one first").format(name=name, day=day))
    moved, keys = compare_schemes(with_indicators(project, active),
                                  version_service.scheme_of(active), edited, new_spec,
                                  as_of=day, samples=samples, timeout=timeout)
    return SpecPreview(name, day, active.number, moved, keys)
