"""``/schemes/{name}/document``: a scheme version's classification standard as a file."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from tierwise.api.deps import MAX_ID, Reader
from tierwise.http.clients import project_of, store_of
from tierwise.reports.standard_text import content_security_policy
from tierwise.services import standard

router = APIRouter(tags=["schemes"])


@router.get("/schemes/{name}/document", response_class=Response,
            responses={200: {"content": {media.split(";")[0]: {}
                                         for media in standard.MEDIA_TYPES.values()}}})
def document(name: str, request: Request, user: Reader,
             format: Literal["md", "html", "xlsx", "pdf"] = "md",
             version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    """The classification standard of a version (default: the active one).

    In the request's language: classes in value order with criteria and strategies, the review
    policy and the indicators.
    """
    doc = standard.document(store_of(request), name, version=version,
                            project=project_of(request))
    rendered = standard.render(doc, format)
    headers = {"Content-Disposition": f'attachment; filename="{rendered.filename}"'}
    if format == "html":
        headers["Content-Security-Policy"] = content_security_policy()
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)
