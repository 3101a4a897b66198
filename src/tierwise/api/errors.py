"""Errors as JSON: ``{"code", "message", "issues"}`` with the HTTP status of their kind.

No request gets a traceback or generated SQL back. An engine failure or an unexpected error is
logged here with an error id (logger ``tierwise.api``), and the answer names only that id, so an
operator can find the details and a caller learns nothing about the internals.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierwise.errors import (
    ConflictError,
    DataError,
    EngineError,
    MethodError,
    NotFoundError,
    PermissionDenied,
    SpecError,
    TierwiseError,
)

log = logging.getLogger("tierwise.api")

_STATUS: list[tuple[type[TierwiseError], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PermissionDenied, 403, "forbidden"),
    (SpecError, 422, "invalid"),
    (DataError, 422, "bad_data"),
    (MethodError, 422, "cannot_grade"),
]


class Unauthenticated(TierwiseError):
    """No valid session or token came with the request."""


class PreconditionFailed(ConflictError):
    """The object changed since the client read it (If-Match does not match)."""


def body(code: str, message: str, issues: list[dict[str, str]] | None = None) -> dict[str, object]:
    """The JSON error body."""
    return {"code": code, "message": message, "issues": issues or []}


def error_id() -> str:
    """A short random id that ties an answer to its server log line."""
    return secrets.token_hex(6)


def engine_message(exc: EngineError) -> tuple[str, str]:
    """What a caller is told of an engine failure, and the id it is logged under.

    The engine's own text and the generated SQL stay in the server log.
    """
    eid = error_id()
    sql = getattr(exc, "sql", None)
    log.error("engine error %s: %s%s", eid, exc, f"\nSQL: {sql}" if sql else "")
    first = str(exc).split("\n", 1)[0].split(" SQL:", 1)[0][:500]
    return (f"{first} (error id {eid}; the server log has the details)", eid)


def status_of(exc: TierwiseError) -> tuple[int, str]:
    """The HTTP status and the error code of a tierwise error."""
    from tierwise.api.limits import RateLimited
    from tierwise.services.auth import LockedOut

    if isinstance(exc, Unauthenticated):
        return 401, "unauthenticated"
    if isinstance(exc, PreconditionFailed):
        return 412, "precondition_failed"
    if isinstance(exc, RateLimited | LockedOut):
        return 429, "too_many_requests"
    if isinstance(exc, EngineError):
        return 422, "engine_error"
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "error"


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into JSON responses."""

    @app.exception_handler(TierwiseError)
    async def _tierwise(_: Request, exc: TierwiseError) -> JSONResponse:
        status, code = status_of(exc)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        retry = getattr(exc, "retry_after", None)
        if status == 429 and retry:
            headers["Retry-After"] = str(int(retry))
        message = engine_message(exc)[0] if isinstance(exc, EngineError) else str(exc)
        issues = ([{"where": p.where, "path": p.path, "message": p.message}
                   for p in exc.problems] if isinstance(exc, SpecError) else [])
        return JSONResponse(body(code, message, issues), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [{"where": ".".join(str(p) for p in e.get("loc", ())), "path": "",
                   "message": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse(body("invalid", "the request does not match the API", issues),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "too_large"}
        return JSONResponse(body(codes.get(exc.status_code, "error"), str(exc.detail)),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        eid = error_id()
        log.exception("unexpected error %s on %s %s", eid, request.method, request.url.path)
        return JSONResponse(body("internal", f"the server failed (error id {eid}); the server "
                                             "log has the details"), status_code=500)
