"""Errors as JSON: ``{"code", "message", "issues"}`` with the HTTP status of their kind."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tierwise.errors import (
    ConflictError,
    DataError,
    NotFoundError,
    PermissionDenied,
    SpecError,
    TierwiseError,
)

_STATUS: list[tuple[type[TierwiseError], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PermissionDenied, 403, "forbidden"),
    (SpecError, 422, "invalid"),
    (DataError, 422, "bad_data"),
]


class Unauthenticated(TierwiseError):
    """No valid session or token came with the request."""


class PreconditionFailed(ConflictError):
    """The object changed since the client read it (If-Match does not match)."""


def body(code: str, message: str, issues: list[dict[str, str]] | None = None) -> dict[str, object]:
    """The JSON error body."""
    return {"code": code, "message": message, "issues": issues or []}


def install(app: FastAPI) -> None:
    """Register the handlers that turn tierwise errors into JSON responses."""

    @app.exception_handler(TierwiseError)
    async def _tierwise(_: Request, exc: TierwiseError) -> JSONResponse:
        if isinstance(exc, Unauthenticated):
            return JSONResponse(body("unauthenticated", str(exc)), status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if isinstance(exc, PreconditionFailed):
            return JSONResponse(body("precondition_failed", str(exc)), status_code=412)
        issues = ([{"where": p.where, "path": p.path, "message": p.message}
                   for p in exc.problems] if isinstance(exc, SpecError) else [])
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                return JSONResponse(body(code, str(exc), issues), status_code=status)
        return JSONResponse(body("error", str(exc)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [{"where": ".".join(str(p) for p in e.get("loc", ())), "path": "",
                   "message": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse(body("invalid", "the request does not match the API", issues),
                            status_code=422)
