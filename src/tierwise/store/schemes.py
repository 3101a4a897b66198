"""Schemes, their versions and activations in the store.

A version is identified by a fingerprint of what decides grades (the scheme without its labels and
texts, plus the indicators it uses). Saving a scheme whose fingerprint is known records no new
version; if only its texts changed, the version's texts are updated (and audited). Activations are
append-only: the version active on a date is the latest activation effective on or before it, so
activating, rolling back and scheduling a go-live date are all one kind of row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.errors import ConflictError, NotFoundError, StoreError
from tierwise.i18n import _
from tierwise.store import audit, visibility
from tierwise.store.tables import activations, scheme_versions, schemes

FOREVER = date(1900, 1, 1)


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Version:
    """One stored version of a scheme."""

    id: int
    scheme: str
    number: int
    fingerprint: str
    spec: dict[str, Any]
    indicators: dict[str, Any]
    created_at: datetime
    created_by: str
    note: str | None
    revision: int


@dataclass(frozen=True)
class Activation:
    """One activation: ``version`` is active from ``effective_from`` on."""

    id: int
    scheme: str
    version: int
    effective_from: date
    created_at: datetime
    created_by: str
    kind: str


def scheme_id(conn: sa.Connection, name: str, *, create: bool = False) -> int:
    """The id of scheme ``name``; created when ``create`` and unknown.

    A confidential scheme the current user may not see (:mod:`tierwise.store.visibility`) is
    unknown to them; its name cannot be taken for a new scheme either.
    """
    if visibility.is_hidden(name):
        if create:
            raise ConflictError(_("the name {name} cannot be used for a scheme; pick another "
                                  "name").format(name=repr(name)))
        found = None
    else:
        found = conn.execute(sa.select(schemes.c.id).where(schemes.c.name == name)).scalar()
    if found is not None:
        return int(found)
    if not create:
        raise NotFoundError(
            _("scheme {name} is not in the store yet; run it or save it (`tierwise scheme save "
              "{key}`) first").format(name=repr(name), key=name)
        )
    try:
        with conn.begin_nested():
            return int(conn.execute(
                sa.insert(schemes).values(name=name, created_at=now()).returning(schemes.c.id)
            ).scalar_one())
    except sa.exc.IntegrityError:  # another writer created it a moment ago
        return int(conn.execute(
            sa.select(schemes.c.id).where(schemes.c.name == name)).scalar_one())


def lock(conn: sa.Connection, name: str, *, create: bool = False) -> int:
    """Lock scheme ``name`` for the rest of the transaction and return its id.

    Writers that read and then write a scheme's versions or overrides take this lock first, so
    two of them never both act on the same reading (PostgreSQL runs transactions side by side;
    SQLite's write transactions already queue).
    """
    sid = scheme_id(conn, name, create=create)
    conn.execute(sa.select(schemes.c.id).where(schemes.c.id == sid).with_for_update())
    return sid


def _version(row: sa.Row[Any], scheme: str) -> Version:
    return Version(row.id, scheme, row.number, row.fingerprint, row.spec, row.indicators,
                   row.created_at, row.created_by, row.note, row.revision)


def save_version(
    conn: sa.Connection,
    scheme: str,
    *,
    spec: dict[str, Any],
    indicators: dict[str, Any],
    fingerprint: str,
    actor: str,
    note: str | None = None,
    update_texts: bool = True,
) -> tuple[Version, bool]:
    """Record ``spec`` as a version of ``scheme``; returns the version and whether it is new.

    A spec whose fingerprint is known is the same version; with ``update_texts`` its labels,
    descriptions and strategies replace the stored ones (audited), else they are left alone.
    """
    sid = lock(conn, scheme, create=True)
    row = conn.execute(
        sa.select(scheme_versions).where(scheme_versions.c.scheme_id == sid,
                                         scheme_versions.c.fingerprint == fingerprint)
    ).first()
    if row is not None:
        if update_texts and row.spec != spec:
            # Same grades, new texts (labels, descriptions, strategies): not a new version.
            conn.execute(
                sa.update(scheme_versions).where(scheme_versions.c.id == row.id)
                .values(spec=spec, revision=row.revision + 1)
            )
            audit.append(conn, actor=actor, action="version.texts_updated",
                         object_type="scheme_version", object_id=f"{scheme}/{row.number}",
                         before=row.spec, after=spec)
            row = conn.execute(
                sa.select(scheme_versions).where(scheme_versions.c.id == row.id)).one()
        return _version(row, scheme), False
    number = (conn.execute(
        sa.select(sa.func.max(scheme_versions.c.number)).where(scheme_versions.c.scheme_id == sid)
    ).scalar() or 0) + 1
    vid = conn.execute(
        sa.insert(scheme_versions).values(
            scheme_id=sid, number=number, fingerprint=fingerprint, spec=spec,
            indicators=indicators, created_at=now(), created_by=actor, note=note,
        ).returning(scheme_versions.c.id)
    ).scalar_one()
    audit.append(conn, actor=actor, action="version.created", object_type="scheme_version",
                 object_id=f"{scheme}/{number}", before=None,
                 after={"fingerprint": fingerprint, "spec": spec, "indicators": indicators,
                        "note": note})
    row = conn.execute(sa.select(scheme_versions).where(scheme_versions.c.id == vid)).one()
    return _version(row, scheme), True


def versions(conn: sa.Connection, scheme: str) -> list[Version]:
    """Every version of ``scheme``, oldest first."""
    sid = scheme_id(conn, scheme)
    rows = conn.execute(
        sa.select(scheme_versions).where(scheme_versions.c.scheme_id == sid)
        .order_by(scheme_versions.c.number)
    ).all()
    return [_version(r, scheme) for r in rows]


def version(conn: sa.Connection, scheme: str, number: int) -> Version:
    """Version ``number`` of ``scheme``."""
    sid = scheme_id(conn, scheme)
    row = conn.execute(
        sa.select(scheme_versions).where(scheme_versions.c.scheme_id == sid,
                                         scheme_versions.c.number == number)
    ).first()
    if row is None:
        known = _(", ").join(str(v.number) for v in versions(conn, scheme)) or _("none")
        raise NotFoundError(_("scheme {scheme} has no version {number}; versions: {known}").format(
            scheme=repr(scheme), number=number, known=known))
    return _version(row, scheme)


def version_by_id(conn: sa.Connection, version_id: int) -> Version:
    """The version with the store id ``version_id``."""
    row = conn.execute(
        sa.select(scheme_versions, schemes.c.name).join(schemes)
        .where(scheme_versions.c.id == version_id)
    ).one()
    return _version(row, row.name)


def activate(
    conn: sa.Connection,
    scheme: str,
    number: int,
    *,
    actor: str,
    effective_from: date | None = None,
    kind: str = "activate",
) -> Activation:
    """Make version ``number`` active from ``effective_from`` (default: today)."""
    target = version(conn, scheme, number)
    day = effective_from or date.today()
    before = active_version(conn, scheme, day)
    aid = conn.execute(
        sa.insert(activations).values(
            scheme_id=scheme_id(conn, scheme), version_id=target.id, effective_from=day,
            created_at=now(), created_by=actor, kind=kind,
        ).returning(activations.c.id)
    ).scalar_one()
    audit.append(conn, actor=actor, action=f"scheme.{kind}", object_type="scheme",
                 object_id=scheme,
                 before={"version": before.number if before else None},
                 after={"version": number, "effective_from": day.isoformat()})
    return Activation(aid, scheme, number, day, now(), actor, kind)


def activation_list(conn: sa.Connection, scheme: str) -> list[Activation]:
    """The activations of ``scheme``, in the order they take effect."""
    rows = conn.execute(
        sa.select(activations, scheme_versions.c.number)
        .join(scheme_versions, activations.c.version_id == scheme_versions.c.id)
        .where(activations.c.scheme_id == scheme_id(conn, scheme))
        .order_by(activations.c.effective_from, activations.c.id)
    ).all()
    return [Activation(r.id, scheme, r.number, r.effective_from, r.created_at, r.created_by,
                       r.kind) for r in rows]


def active_version(conn: sa.Connection, scheme: str, on: date | None = None) -> Version | None:
    """The version of ``scheme`` active on ``on`` (default today), or None."""
    day = on or date.today()
    effective = [a for a in activation_list(conn, scheme) if a.effective_from <= day]
    return version(conn, scheme, effective[-1].version) if effective else None


def rollback(conn: sa.Connection, scheme: str, *, actor: str,
             effective_from: date | None = None) -> Activation:
    """Re-activate the version active before the current one, from ``effective_from`` (today)."""
    today = effective_from or date.today()
    current = active_version(conn, scheme, today)
    if current is None:
        raise StoreError(_("scheme {scheme} has no active version to roll back from").format(
            scheme=repr(scheme)))
    earlier = [a.version for a in activation_list(conn, scheme)
               if a.effective_from <= today and a.version != current.number]
    if not earlier:
        raise ConflictError(
            _("scheme {scheme} has had no other active version than {number}; nothing to roll "
              "back to").format(scheme=repr(scheme), number=current.number)
        )
    return activate(conn, scheme, earlier[-1], actor=actor, effective_from=today, kind="rollback")


def scheme_names(conn: sa.Connection) -> list[str]:
    """The names of every scheme in the store (that the current user may see)."""
    names = conn.execute(sa.select(schemes.c.name).order_by(schemes.c.name)).scalars()
    return [n for n in names if not visibility.is_hidden(n)]


@dataclass(frozen=True)
class SchemeInfo:
    """What the store says of a scheme besides its versions: its title and whether it is retired."""

    name: str
    title: str | None
    created_at: datetime
    retired_at: datetime | None
    retired_by: str | None


def infos(conn: sa.Connection) -> list[SchemeInfo]:
    """Every scheme in the store with its title and retirement, by name."""
    rows = conn.execute(sa.select(schemes.c.name, schemes.c.title, schemes.c.created_at,
                                  schemes.c.retired_at, schemes.c.retired_by)
                        .order_by(schemes.c.name)).all()
    return [SchemeInfo(r.name, r.title, r.created_at, r.retired_at, r.retired_by) for r in rows
            if not visibility.is_hidden(r.name)]


def info(conn: sa.Connection, name: str) -> SchemeInfo:
    """Scheme ``name``'s title and retirement."""
    sid = scheme_id(conn, name)
    r = conn.execute(sa.select(schemes).where(schemes.c.id == sid)).one()
    return SchemeInfo(r.name, r.title, r.created_at, r.retired_at, r.retired_by)


def set_title(conn: sa.Connection, name: str, title: str | None, *, actor: str) -> None:
    """Give scheme ``name`` the title people see (None: its label or key again); audited."""
    before = info(conn, name)
    conn.execute(sa.update(schemes).where(schemes.c.name == name).values(title=title))
    audit.append(conn, actor=actor, action="scheme.renamed", object_type="scheme",
                 object_id=name, before={"title": before.title}, after={"title": title})


def set_retired(conn: sa.Connection, name: str, retired: bool, *, actor: str) -> SchemeInfo:
    """Retire scheme ``name`` (hidden, no longer run) or restore it; audited, history kept."""
    before = info(conn, name)
    at = now() if retired else None
    conn.execute(sa.update(schemes).where(schemes.c.name == name)
                 .values(retired_at=at, retired_by=actor if retired else None))
    audit.append(conn, actor=actor, action="scheme.retired" if retired else "scheme.restored",
                 object_type="scheme", object_id=name,
                 before={"retired_at": before.retired_at.isoformat() if before.retired_at
                         else None},
                 after={"retired_at": at.isoformat() if at else None})
    return info(conn, name)


def confidential_roles(conn: sa.Connection) -> dict[str, tuple[str, ...]]:
    """Scheme name -> the roles its newest confidential version names.

    Every scheme that has ever had a confidential version is listed: a later version without
    ``confidential:`` does not make the records of the earlier ones public, and a deleted one
    stays listed (its audit entries remain).
    """
    rows = conn.execute(
        sa.select(schemes.c.name, scheme_versions.c.spec)
        .join(scheme_versions, scheme_versions.c.scheme_id == schemes.c.id)
        .order_by(schemes.c.name, scheme_versions.c.number)).all()
    found: dict[str, tuple[str, ...]] = {}
    for name, spec in rows:
        secret = spec.get("confidential") if isinstance(spec, dict) else None
        if isinstance(secret, dict):
            found[name] = tuple(str(r) for r in secret.get("roles") or ())
    for name, gone in audit.deleted_confidential(conn).items():  # deleted, still confidential
        found.setdefault(name, tuple(str(r) for r in gone["roles"]))
    return found


def signature(conn: sa.Connection) -> tuple[Any, ...]:
    """What changes whenever a version is saved or a scheme renamed (a cache key)."""
    count, newest = conn.execute(sa.select(sa.func.count(scheme_versions.c.id),
                                           sa.func.max(scheme_versions.c.id))).one()
    names = conn.execute(sa.select(schemes.c.name).order_by(schemes.c.name)).scalars()
    return (count, newest, tuple(names))


def delete(conn: sa.Connection, name: str, *, actor: str) -> dict[str, int]:
    """Delete scheme ``name`` and every record of it; returns how many of each were deleted.

    Versions, activations, runs with their counts and action ledger rows, and overrides go.
    The audit log keeps the deletion, and every event before it.
    """
    from tierwise.store.tables import action_ledger, overrides, run_tiers, runs

    sid = lock(conn, name)
    run_ids = sa.select(runs.c.id).where(runs.c.scheme_id == sid)
    counts: dict[str, Any] = {
        "runs": conn.execute(sa.select(sa.func.count()).select_from(runs)
                             .where(runs.c.scheme_id == sid)).scalar_one(),
        "versions": conn.execute(sa.select(sa.func.count()).select_from(scheme_versions)
                                 .where(scheme_versions.c.scheme_id == sid)).scalar_one(),
        "overrides": conn.execute(sa.select(sa.func.count()).select_from(overrides)
                                  .where(overrides.c.scheme_id == sid)).scalar_one(),
    }
    secret = confidential_roles(conn).get(name)
    if secret is not None:  # its records stay hidden from the others after it is gone
        counts["confidential"] = {
            "roles": list(secret),
            "runs": list(conn.execute(run_ids).scalars()),
            "overrides": list(conn.execute(sa.select(overrides.c.id).where(
                overrides.c.scheme_id == sid)).scalars())}
    conn.execute(sa.delete(action_ledger).where(action_ledger.c.run_id.in_(run_ids)))
    conn.execute(sa.delete(run_tiers).where(run_tiers.c.run_id.in_(run_ids)))
    conn.execute(sa.delete(runs).where(runs.c.scheme_id == sid))
    conn.execute(sa.delete(overrides).where(overrides.c.scheme_id == sid))
    conn.execute(sa.delete(activations).where(activations.c.scheme_id == sid))
    conn.execute(sa.delete(scheme_versions).where(scheme_versions.c.scheme_id == sid))
    conn.execute(sa.delete(schemes).where(schemes.c.id == sid))
    audit.append(conn, actor=actor, action="scheme.deleted", object_type="scheme",
                 object_id=name, before=counts, after=None)
    return {k: int(counts[k]) for k in ("runs", "versions", "overrides")}
