"""``/schemes``: create (from a template or a spec), duplicate, rename, retire and restore.

The schemes made here live in the store only; version 1 is active at once, so a run grades
them. Editors (supervisors and admins) only; each change is audited.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tierwise.api.deps import Editor, Reader
from tierwise.http.clients import project_of, store_of
from tierwise.services import catalog
from tierwise.services import scheme_admin as admin

router = APIRouter(tags=["schemes"])

TemplateKey = Literal["blank", "retail_value", "rfm11", "rfm_cn8", "abc", "scorecard", "clv"]


class TemplateOut(BaseModel):
    """A template a scheme may start from, in the request's language."""

    key: str
    title: str
    description: str
    method: str
    missing_indicators: list[str] = Field(
        description="indicators the template reads that tierwise.yaml does not declare")
    suggested: dict[str, str] = Field(
        description="a definition of each missing indicator to adapt and add to tierwise.yaml")


@router.get("/scheme-templates", response_model=list[TemplateOut])
def templates(request: Request, user: Reader) -> list[TemplateOut]:
    """The templates, each with the indicators the project would need to add for it."""
    return [TemplateOut(key=f.template.key, title=f.template.title_text(),
                        description=f.template.description_text(),
                        method=f.template.method(), missing_indicators=f.missing,
                        suggested={n: f.template.indicators[n] for n in f.missing})
            for f in admin.fits(project_of(request))]


class SchemeCreate(BaseModel):
    """A new scheme: its key, title, and a template or a spec (as in tierwise.yaml, as JSON)."""

    name: str = Field(max_length=200, description="the key; follows the scheme-name rule")
    title: str | None = Field(default=None, max_length=200)
    template: TemplateKey | None = Field(
        default=None, description="start from this template (default: blank, unless spec)")
    spec: dict[str, Any] | None = Field(default=None, description="the scheme itself")
    note: str | None = Field(default=None, max_length=4000)


class SchemeAdminOut(BaseModel):
    """A scheme's key, title, active version and whether it is retired."""

    name: str
    title: str
    active_version: int | None
    retired: bool


def _out(request: Request, name: str) -> SchemeAdminOut:
    row = next(r for r in admin.listing(store_of(request), project_of(request), retired=True)
               if r.name == name)
    return SchemeAdminOut(name=row.name, title=row.title, active_version=row.active,
                          retired=row.retired)


@router.post("/schemes", status_code=201, response_model=SchemeAdminOut)
def create(body: SchemeCreate, request: Request, user: Editor) -> SchemeAdminOut:
    """Create a scheme as version 1, active for every date (409 when the key is taken)."""
    admin.create(store_of(request), project_of(request),
                 admin.NewScheme(body.name, body.title, body.template, body.spec, body.note),
                 actor=user.username)
    return _out(request, body.name)


class Duplicate(BaseModel):
    """The key and title of the copy."""

    name: str = Field(max_length=200)
    title: str | None = Field(default=None, max_length=200)


@router.post("/schemes/{name}/duplicate", status_code=201, response_model=SchemeAdminOut)
def duplicate(name: str, body: Duplicate, request: Request, user: Editor) -> SchemeAdminOut:
    """A new scheme with the active version's content as its version 1."""
    catalog.require_scheme(store_of(request), name)
    admin.duplicate(store_of(request), project_of(request), name, body.name, title=body.title,
                    actor=user.username)
    return _out(request, body.name)


class Rename(BaseModel):
    """The new title (null or blank: the scheme's label again); the key never changes."""

    title: str | None = Field(default=None, max_length=200)


@router.post("/schemes/{name}/rename", response_model=SchemeAdminOut)
def rename(name: str, body: Rename, request: Request, user: Editor) -> SchemeAdminOut:
    """Give a scheme a new title; runs and history keep referencing its key."""
    catalog.require_scheme(store_of(request), name)
    admin.rename(store_of(request), name, body.title, actor=user.username)
    return _out(request, name)


@router.post("/schemes/{name}/retire", response_model=SchemeAdminOut)
def retire(name: str, request: Request, user: Editor) -> SchemeAdminOut:
    """Hide a scheme and stop running it (run --all, schedules); its history is kept."""
    catalog.require_scheme(store_of(request), name)
    admin.retire(store_of(request), name, actor=user.username)
    return _out(request, name)


@router.post("/schemes/{name}/restore", response_model=SchemeAdminOut)
def restore(name: str, request: Request, user: Editor) -> SchemeAdminOut:
    """Undo a retirement."""
    catalog.require_scheme(store_of(request), name)
    admin.retire(store_of(request), name, actor=user.username, retired=False)
    return _out(request, name)
