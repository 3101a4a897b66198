"""Errors as HTTP statuses: one map for the REST API and the dashboard.

No request gets a traceback or generated SQL back. An engine failure or an unexpected error is
logged with an error id (logger ``tierwise.http``), and the answer names only that id, so an
operator can find the details and a caller learns nothing about the internals.
"""

from __future__ import annotations

import logging
import secrets

from tierwise.errors import (
    ConflictError,
    DataError,
    DeliveryError,
    EngineError,
    MethodError,
    NotFoundError,
    PermissionDenied,
    QueryTimeout,
    SpecError,
    TierwiseError,
)

log = logging.getLogger("tierwise.http")

_STATUS: list[tuple[type[TierwiseError], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PermissionDenied, 403, "forbidden"),
    (SpecError, 422, "invalid"),
    (DataError, 422, "bad_data"),
    (MethodError, 422, "cannot_grade"),
    (DeliveryError, 502, "receiver_unreachable"),
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


def status_of(exc: TierwiseError, *, otherwise: int = 400) -> tuple[int, str]:
    """The HTTP status and the error code of a tierwise error.

    ``otherwise`` is the status of an error of none of the kinds mapped here: a bad request
    (400) by default; a dashboard form answers such a refusal as 409 or 422 instead.
    """
    from tierwise.http.limits import RateLimited
    from tierwise.services.auth import LockedOut

    if isinstance(exc, Unauthenticated):
        return 401, "unauthenticated"
    if isinstance(exc, PreconditionFailed):
        return 412, "precondition_failed"
    if isinstance(exc, RateLimited | LockedOut):
        return 429, "too_many_requests"
    if isinstance(exc, QueryTimeout):
        return 422, "too_slow"
    if isinstance(exc, EngineError):
        return 422, "engine_error"
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return otherwise, "error"
