"""Errors as JSON: ``{"code", "message", "issues"}`` with the HTTP status of their kind."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierwise.errors import EngineError, QueryTimeout, SpecError, TierwiseError
from tierwise.http.errors import (
    PreconditionFailed,
    Unauthenticated,
    body,
    engine_message,
    error_id,
    log,
    status_of,
)
from tierwise.http.language import language_of
from tierwise.i18n import N_, _, use

__all__ = ["PreconditionFailed", "Unauthenticated", "body", "install"]

#: What a client is told for the framework's own refusals (no route, wrong method ...).
HTTP_MESSAGES = {
    404: N_("no such path in the API; /openapi.json lists them"),
    405: N_("this path does not take that HTTP method; /openapi.json lists the methods"),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into JSON responses."""

    @app.exception_handler(TierwiseError)
    async def _tierwise(_request: Request, exc: TierwiseError) -> JSONResponse:
        status, code = status_of(exc)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        retry = getattr(exc, "retry_after", None)
        if status == 429 and retry:
            headers["Retry-After"] = str(int(retry))
        message = str(exc)
        if isinstance(exc, EngineError) and not isinstance(exc, QueryTimeout):
            message = engine_message(exc)[0]
        issues = ([{"where": p.where, "path": p.path, "message": p.message}
                   for p in exc.problems] if isinstance(exc, SpecError) else [])
        return JSONResponse(body(code, message, issues), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [{"where": ".".join(str(p) for p in e.get("loc", ())), "path": "",
                   "message": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse(body("invalid", _("the request does not match the API; the issues "
                                              "say which fields are wrong"), issues),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large"}
        said = HTTP_MESSAGES.get(exc.status_code)
        message = _(said) if said and exc.detail == HTTPStatus(exc.status_code).phrase else str(
            exc.detail)
        return JSONResponse(body(codes.get(exc.status_code, "error"), message),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        eid = error_id()
        log.exception("unexpected error %s on %s %s", eid, request.method, request.url.path)
        # This handler runs outside the Language middleware: pick the language here.
        with use(language_of(request, request.app.state.project.spec.language)):
            message = _("the server failed (error id {id}); the server log has the "
                        "details").format(id=eid)
        return JSONResponse(body("internal", message), status_code=500)
