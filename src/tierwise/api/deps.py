"""What the API's routers share: id bounds, the caller's role as a dependency, rate limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi import Path as FastPath

from tierwise.api.auth import requires
from tierwise.http.clients import client_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.services import access
from tierwise.services.records import User

# Ids fit the store's 32-bit integer columns; larger numbers are a 422, not a database error.
MAX_ID = 2**31 - 1
Id = Annotated[int, FastPath(ge=1, le=MAX_ID)]
Reader = Annotated[User, Depends(requires(access.READ))]
CustomerReader = Annotated[User, Depends(requires(access.READ_CUSTOMERS))]
Editor = Annotated[User, Depends(requires(access.EDIT_SCHEMES))]
Overrider = Annotated[User, Depends(requires(access.OVERRIDE))]
Decider = Annotated[User, Depends(requires(access.DECIDE))]
Auditor = Annotated[User, Depends(requires(access.READ_AUDIT))]
Admin = Annotated[User, Depends(requires(access.USERS))]
Assigner = Annotated[User, Depends(requires(access.ASSIGN))]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def expensive(request: Request, user: User) -> None:
    """Charge an expensive request (search, export, preview, run) to the caller's rate limits."""
    limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)


def iso(value: Any) -> str | None:
    """A date or time as ISO text; None stays None."""
    return value.isoformat() if value is not None else None
