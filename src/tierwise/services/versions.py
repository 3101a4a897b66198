"""Scheme versions: save the project's schemes, list, diff, activate, roll back, schedule.

The version of a scheme is fixed by a fingerprint of what decides its grades and who may change
them: the scheme without its labels, descriptions and strategy texts, plus the definitions of every
indicator it uses. Override governance (``overrides: require_approval``, ``max_backdate_days``) is
part of it, so switching approval on or off is a new version that someone with edit rights
activates, never a silent change of the live one. Editing a label updates the texts of the current
version (by someone with edit rights: ``tierwise scheme save``, or the editor) instead of making a
new one, while changing a threshold or an indicator's window makes a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import TypeAdapter

from tierwise import methods
from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.indicators import required_indicators
from tierwise.services.grading import Project
from tierwise.spec.limits import check_value_shape
from tierwise.spec.models import IndicatorSpec, SchemeSpec
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store import schemes as store_schemes
from tierwise.store.repos import Tx
from tierwise.store.schemes import Activation, Version

_SCHEME: TypeAdapter[SchemeSpec] = TypeAdapter(SchemeSpec)
_INDICATOR: TypeAdapter[IndicatorSpec] = TypeAdapter(IndicatorSpec)
# Texts: changing them never changes a grade. (Migration 0004 freezes this set for old stores.)
_DISPLAY = frozenset({"label", "description", "strategy"})
# A tier's display fields beyond its texts. Left out by place (in a tier), not by name anywhere,
# so an indicator named "colour" still counts; stores older than the field hold no such key, so
# their fingerprints (and migration 0004's) stay as they were.
_TIER_DISPLAY = frozenset({"colour"})
# An indicator's display fields: its unit (CNY, orders), left out by place in the same way.
_INDICATOR_DISPLAY = frozenset({"unit"})


def _grading_tiers(spec: Any) -> Any:
    tiers = spec.get("tiers") if isinstance(spec, dict) else None
    if not isinstance(tiers, list):
        return spec
    return {**spec, "tiers": [{k: v for k, v in t.items() if k not in _TIER_DISPLAY}
                              if isinstance(t, dict) else t for t in tiers]}


def _grading_indicators(indicators: dict[str, Any]) -> dict[str, Any]:
    return {n: {k: v for k, v in d.items() if k not in _INDICATOR_DISPLAY}
            if isinstance(d, dict) else d for n, d in indicators.items()}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _DISPLAY}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def dump_scheme(scheme: SchemeSpec) -> dict[str, Any]:
    """The scheme as stored: JSON without defaults, so new optional fields keep fingerprints."""
    out: dict[str, Any] = _SCHEME.dump_python(scheme, mode="json", by_alias=True,
                                              exclude_defaults=True)
    return out


def grading_content(project: Project, name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The stored spec, the indicators it uses, and the fingerprint of scheme ``name``."""
    scheme = project.scheme(name)
    spec = dump_scheme(scheme)
    used = required_indicators(project.spec, methods.scheme_indicators(scheme))
    indicators = {
        n: _INDICATOR.dump_python(project.spec.indicators[n], mode="json", by_alias=True,
                                  exclude_defaults=True)
        for n in sorted(used) if n in project.spec.indicators
    }
    return spec, indicators, fingerprint(spec, indicators)


def fingerprint(spec: dict[str, Any], indicators: dict[str, Any]) -> str:
    """sha256 of the grading content of a scheme and its indicators.

    Raises:
        SpecError: the content nests deeper than a spec may (``_strip`` and ``json`` recurse).

    """
    check_value_shape({"scheme": spec, "indicators": indicators}, where="scheme version")
    text = json.dumps({"scheme": _strip(_grading_tiers(spec)),
                       "indicators": _strip(_grading_indicators(indicators))},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scheme_of(version: Version) -> SchemeSpec:
    """The scheme spec stored in a version."""
    return _SCHEME.validate_python(version.spec)


def scheme_of_spec(spec: dict[str, Any]) -> SchemeSpec:
    """A stored scheme spec (a version's ``spec``) as the validated model."""
    return _SCHEME.validate_python(spec)


def indicators_of(version: Version) -> dict[str, IndicatorSpec]:
    """The indicator definitions stored with a version."""
    return {n: _INDICATOR.validate_python(v) for n, v in version.indicators.items()}


def save(store: Store, project: Project, name: str, *, actor: str, note: str | None = None,
         activate_first: bool = True, update_texts: bool = True) -> tuple[Version, bool]:
    """Save the project's scheme ``name`` as a version; the first version becomes active.

    Returns the version and whether it is new. The first version of a scheme is active for every
    date, so a backfill of past dates grades with it. With ``update_texts`` (a person with edit
    rights saving), an existing version takes tierwise.yaml's labels and texts; runs save
    without it, so a run never rewrites what the service's users edited.

    Raises:
        SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
        NotFoundError: the project has no scheme ``name``.

    """
    check_scheme_name(name)
    spec, indicators, print_ = grading_content(project, name)
    with store.write() as tx:
        saved, created = tx.schemes.save_version(name, spec=spec, indicators=indicators, fingerprint=print_, actor=actor,
            note=note, update_texts=update_texts)
        if activate_first and not tx.schemes.activation_list(name):
            tx.schemes.activate(name, saved.number, actor=actor,
                                   effective_from=store_schemes.FOREVER, kind="activate")
    return saved, created


def texts_differ(version: Version, project: Project, name: str) -> bool:
    """Whether tierwise.yaml's texts of scheme ``name`` differ from those stored in ``version``.

    Only meaningful for the version with the same fingerprint (same grading content).
    """
    return version.spec != dump_scheme(project.scheme(name))


def listing(store: Store, name: str) -> tuple[list[Version], list[Activation]]:
    """The versions of a scheme and its activations.

    Raises:
        SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).

    """
    check_scheme_name(name)
    with store.read() as tx:
        return tx.schemes.versions(name), tx.schemes.activation_list(name)


def active_on(tx: Tx, name: str, day: date) -> Version:
    """The version of scheme ``name`` active on ``day``.

    Raises:
        SpecError: no version is active on ``day``: the scheme's first activation takes effect
            later (a go-live date), or it has none; the message names the first one.

    """
    found = tx.schemes.active_version(name, day)
    if found is not None:
        return found
    listed = tx.schemes.activation_list(name)
    if not listed:
        raise SpecError(_("scheme {name!r} has no active version; activate one with `tierwise "
                          "scheme activate {name} <version>`").format(name=name))
    first = listed[0]
    raise SpecError(
        _("no version of scheme {name!r} is active on {day}; the first version is active from "
          "{effective_from} (version {version}); grade a date from {effective_from} on, or "
          "activate a version from {day} with `tierwise scheme activate {name} {version} --on "
          "{day}`").format(name=name, day=day, effective_from=first.effective_from,
            version=first.version)
    )


def _now_effective(tx: Tx, name: str) -> date:
    """When "now" starts for a scheme's grading: the as-of date of its latest official run.

    Versions take effect by as-of date. Activating "now" therefore means: for a re-run of the
    latest date and every later one, while the earlier history keeps the version it had. A
    scheme never run takes the new version for every date.
    """
    history = tx.runs.history_runs(name)
    return history[-1].as_of if history else store_schemes.FOREVER


def activate(store: Store, name: str, number: int, *, actor: str,
             effective_from: date | None = None) -> Activation:
    """Activate version ``number``: now (see :func:`_now_effective`), or from a go-live date.

    A go-live date after today is recorded as scheduled.

    Raises:
        SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).

    """
    check_scheme_name(name)
    kind = "schedule" if effective_from and effective_from > date.today() else "activate"
    with store.write() as tx:
        day = effective_from or _now_effective(tx, name)
        return tx.schemes.activate(name, number, actor=actor, effective_from=day,
                                      kind=kind)


def rollback(store: Store, name: str, *, actor: str) -> Activation:
    """Re-activate the version active before the current one, now.

    Raises:
        SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).

    """
    check_scheme_name(name)
    with store.write() as tx:
        return tx.schemes.rollback(name, actor=actor,
                                      effective_from=_now_effective(tx, name))


@dataclass(frozen=True)
class Difference:
    """One field that differs between two versions."""

    path: str
    before: Any
    after: Any
    grading: bool


def diff(a: Version, b: Version) -> list[Difference]:
    """The fields that differ from version ``a`` to ``b``; ``grading`` marks grade-deciding ones.

    Raises:
        SpecError: a version's content nests deeper than a spec may (the walk recurses).

    """
    for version in (a, b):
        check_value_shape({"scheme": version.spec, "indicators": version.indicators},
                          where=f"{version.scheme} version {version.number}")
    out: list[Difference] = []

    def walk(path: str, x: Any, y: Any, grading: bool) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y), key=str):
                walk(f"{path}.{key}" if path else str(key), x.get(key), y.get(key),
                     grading and key not in _DISPLAY)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y, strict=True)):
                walk(f"{path}[{i}]", p, q, grading)
        elif x != y:
            out.append(Difference(path, x, y, grading))

    walk("", {"scheme": a.spec, "indicators": a.indicators},
         {"scheme": b.spec, "indicators": b.indicators}, True)
    return out


def with_scheme(project: Project, name: str, spec: dict[str, Any]) -> Project:
    """The project with scheme ``name`` replaced by ``spec``, validated like the YAML file.

    Raises:
        SpecError: every problem of the scheme, with its field path (``schemes.<name>...``),
            including references to indicators the project does not declare; a ``name`` that
            breaks the scheme-name rule, or a ``spec`` nested deeper than a spec may, is refused
            before anything else looks at it.

    """
    from tierwise.spec import PROJECT_FILE, parse_project, read_yaml
    from tierwise.spec.loader import Located

    check_scheme_name(name)
    check_value_shape(spec, where=f"{name} (edited)", prefix=("schemes", name))
    located = read_yaml(project.root / PROJECT_FILE)
    doc = json.loads(json.dumps(located.doc, default=str))
    doc.setdefault("schemes", {})[name] = spec
    edited = parse_project(Located(f"{name} (edited)", doc))
    return Project(edited, project.root)


def save_edit(store: Store, project: Project, name: str, spec: dict[str, Any], *, actor: str,
              base: int | None, note: str | None = None) -> tuple[Version, bool]:
    """Save an edited scheme (e.g. from the dashboard) as a version of ``name``.

    ``base`` is the version number the edit started from: when a newer version was saved in
    between, the edit is refused rather than silently replacing someone else's change.

    Raises:
        ConflictError: ``base`` is not the scheme's latest version.
        SpecError: the scheme or its name is invalid.

    """
    from tierwise.errors import ConflictError

    check_scheme_name(name)
    edited = with_scheme(project, name, spec)
    content, indicators, print_ = grading_content(edited, name)
    with store.write() as tx:
        tx.schemes.lock(name, create=True)
        found = tx.schemes.versions(name)
        latest = found[-1].number if found else None
        if latest is not None and base != latest:
            raise ConflictError(
                _("scheme {name!r} has version {latest} now, but the edit started from "
                  "{base}; reload it, redo the edit on the latest version and save again").format(
                      name=name,
                    latest=latest, base=_("version {n}").format(
                        n=base) if base else _("no version")))
        return tx.schemes.save_version(name, spec=content, indicators=indicators,
                                          fingerprint=print_, actor=actor, note=note)
