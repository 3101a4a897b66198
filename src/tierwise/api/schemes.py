"""``/schemes``: schemes and their versions; check, save, preview, activate, roll back."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tierwise import i18n
from tierwise.api.deps import MAX_ID, Editor, IfMatch, Reader, expensive
from tierwise.http.clients import project_of, security_of, store_of
from tierwise.http.errors import PreconditionFailed
from tierwise.i18n import _
from tierwise.services import catalog
from tierwise.services import history as history_service
from tierwise.services import versions as version_service
from tierwise.services.records import Activation
from tierwise.spec.schemes import TierSpec

router = APIRouter(tags=["schemes"])


class VersionOut(BaseModel):
    """A scheme version."""

    number: int
    fingerprint: str
    created_at: str
    created_by: str
    note: str | None
    active: bool
    spec: dict[str, Any]


class TierOut(BaseModel):
    """A tier as people read it, in the request's language (``Accept-Language``)."""

    key: str
    label: str
    description: str | None
    strategy: str | None


class SchemeOut(BaseModel):
    """A scheme with its active version and that version's tiers, best first."""

    name: str
    active_version: int | None
    tiers: list[TierOut] = Field(default_factory=list)


def tier_out(tier: TierSpec) -> TierOut:
    """A tier's label, description and strategy in the current language."""
    lang = i18n.current()
    return TierOut(key=tier.key, label=tier.label_text(lang),
                   description=tier.description_text(lang), strategy=tier.strategy_text(lang))


@router.get("/schemes", response_model=list[SchemeOut])
def schemes(request: Request, user: Reader) -> list[SchemeOut]:
    """Every scheme in the store, its active version and that version's tiers."""
    store = store_of(request)
    return [SchemeOut(name=s.name, active_version=s.active.number if s.active else None,
                      tiers=[tier_out(t) for t in catalog.scheme_tiers(store, s.name)])
            for s in catalog.schemes(store)]


@router.get("/schemes/{name}/versions", response_model=list[VersionOut])
def versions(name: str, request: Request, response: Response, user: Reader
             ) -> list[VersionOut]:
    """The versions of a scheme, oldest first; the ETag names the latest for edits."""
    found, active = catalog.versions(store_of(request), name)
    response.headers["ETag"] = _scheme_etag(found[-1].number if found else None)
    return [VersionOut(number=v.number, fingerprint=v.fingerprint,
                       created_at=v.created_at.isoformat(), created_by=v.created_by, note=v.note,
                       active=active is not None and active.number == v.number, spec=v.spec)
            for v in found]


class Activate(BaseModel):
    """Which version, from when."""

    version: int = Field(ge=1, le=MAX_ID)
    effective_from: date | None = None


def _activation_out(act: Activation) -> dict[str, Any]:
    return {"version": act.version, "effective_from": act.effective_from, "kind": act.kind}


@router.post("/schemes/{name}/activate")
def activate(name: str, body: Activate, request: Request, user: Editor) -> dict[str, Any]:
    """Activate a version now, or schedule it from a date."""
    return _activation_out(version_service.activate(
        store_of(request), name, body.version, actor=user.username,
        effective_from=body.effective_from))


@router.post("/schemes/{name}/rollback")
def rollback(name: str, request: Request, user: Editor) -> dict[str, Any]:
    """Re-activate the version that was active before the current one."""
    return _activation_out(version_service.rollback(store_of(request), name,
                                                    actor=user.username))


class SchemeEdit(BaseModel):
    """An edited scheme, as in tierwise.yaml but as JSON."""

    spec: dict[str, Any]
    note: str | None = Field(default=None, max_length=4000)


def _scheme_etag(number: int | None) -> str:
    return f'"scheme-v{number or 0}"'


@router.post("/schemes/{name}/validate")
def validate(name: str, body: SchemeEdit, request: Request, user: Editor) -> dict[str, Any]:
    """Check an edited scheme: every problem at once, with its field path."""
    version_service.with_scheme(project_of(request), name, body.spec)
    return {"ok": True, "issues": []}


@router.post("/schemes/{name}/versions", status_code=201)
def save_version(name: str, body: SchemeEdit, request: Request, response: Response,
                 user: Editor, if_match: IfMatch = None) -> dict[str, Any]:
    """Save an edited scheme as a new version (not active until activated).

    Send ``If-Match`` with the ETag of the versions list the edit started from; 409 when a
    newer version was saved in between.
    """
    base = None
    if if_match:
        try:
            base = int(if_match.strip().strip('"').removeprefix("scheme-v")) or None
        except ValueError:
            raise PreconditionFailed(_("If-Match {value} is not a scheme ETag").format(
                value=repr(if_match))) from None
    saved, created = version_service.save_edit(store_of(request), project_of(request), name,
                                               body.spec, actor=user.username, base=base,
                                               note=body.note)
    response.headers["ETag"] = _scheme_etag(saved.number)
    return {"number": saved.number, "created": created, "fingerprint": saved.fingerprint}


class PreviewIn(BaseModel):
    """Which version to compare with the active one."""

    version: int = Field(ge=1, le=MAX_ID)
    as_of: date | None = None


@router.post("/schemes/{name}/preview")
def preview(name: str, body: PreviewIn, request: Request, user: Editor) -> dict[str, Any]:
    """Grade a version and the active one on the same data: counts, matrix, samples."""
    expensive(request, user)
    p = history_service.preview(project_of(request), name, candidate=body.version,
                                as_of=body.as_of, actor=user.username,
                                timeout=security_of(request).preview_timeout_seconds)
    moves = p.transitions
    return {"as_of": p.as_of, "active": p.active, "candidate": p.candidate,
            "headline": moves.headline(), "counts": moves.counts, "tiers": p.tiers,
            "matrix": moves.matrix(p.tiers),
            "samples": [{"from": k[0], "to": k[1], "customers": v}
                        for k, v in moves.samples.items()]}
