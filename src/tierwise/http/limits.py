"""Request limits: token-bucket rate limits per client and per user, and a body size limit.

Logins are limited per client address before any password is hashed, so a flood costs the server
almost nothing; searches, exports, previews and run starts are limited per address and per user.
A refused request gets ``429 Too Many Requests`` with ``Retry-After`` in seconds.

The buckets live in the server process: with several worker processes each keeps its own, so
the effective limit is the setting times the number of workers (the README's security section
says so). Lockout after failed logins is kept in the store and holds across processes.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request

from tierwise.errors import TierwiseError
from tierwise.http.errors import body, status_of
from tierwise.i18n import N_, _, number
from tierwise.spec.models import RateSpec, SecuritySpec

LOGIN = "login"
EXPENSIVE = "expensive"
#: The refusal by (a login?, charged to the address?); whole sentences, for translation.
TOO_MANY = {
    (True, True): N_("too many login attempts from this address (at most {per} a minute); try "
                     "again in {seconds} s"),
    (True, False): N_("too many login attempts for this user (at most {per} a minute); try "
                      "again in {seconds} s"),
    (False, True): N_("too many expensive requests from this address (at most {per} a minute); "
                      "try again in {seconds} s"),
    (False, False): N_("too many expensive requests from this user (at most {per} a minute); "
                       "try again in {seconds} s"),
}
_MAX_KEYS = 50_000  # buckets kept before idle (full) ones are dropped


class RateLimited(TierwiseError):
    """Too many requests of one kind; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at


class RateLimiter:
    """Token buckets by (kind, key): ``per_minute`` refill, ``burst`` capacity."""

    def __init__(self, rates: dict[str, RateSpec], clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.rates = rates
        self.clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, kind: str, key: str) -> float:
        """Take one token; 0 when allowed, else the seconds until one is available."""
        rate = self.rates[kind]
        capacity = float(rate.burst or rate.per_minute)
        per_second = rate.per_minute / 60.0
        moment = self.clock()
        with self._lock:
            bucket = self._buckets.get((kind, key))
            if bucket is None:
                if len(self._buckets) >= _MAX_KEYS:
                    self._drop_full(moment)
                bucket = self._buckets[(kind, key)] = _Bucket(capacity, moment)
            bucket.tokens = min(capacity, bucket.tokens + (moment - bucket.at) * per_second)
            bucket.at = moment
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / per_second

    def _drop_full(self, moment: float) -> None:
        for key, bucket in list(self._buckets.items()):
            rate = self.rates[key[0]]
            capacity = float(rate.burst or rate.per_minute)
            if bucket.tokens + (moment - bucket.at) * rate.per_minute / 60.0 >= capacity:
                del self._buckets[key]

    def check(self, kind: str, *, client: str | None, user: str | None = None) -> None:
        """Refuse with :class:`RateLimited` when the client (or the user) is over the rate.

        The client's bucket is charged first; the user's only when the client's allowed it.
        ``client=None`` charges the user only (the address was charged already, see
        :class:`LoginThrottle`).
        """
        keys = ([f"addr:{client}"] if client is not None else []) + (
            [f"user:{user}"] if user is not None else [])
        for key in keys:
            wait = self.take(kind, key)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise RateLimited(_(TOO_MANY[(kind == LOGIN, key.startswith("addr:"))]).format(
                    per=self.rates[kind].per_minute, seconds=seconds), seconds)


def limiter_for(settings: SecuritySpec) -> RateLimiter:
    """The limiter with the project's rates."""
    return RateLimiter({LOGIN: settings.login_rate, EXPENSIVE: settings.expensive_rate})


def limits_of(request: Request) -> RateLimiter:
    """The app's limiter."""
    limiter: RateLimiter = request.app.state.limiter
    return limiter


API_LOGIN, PAGE_LOGIN = "/api/v1/auth/login", "/login"
TARPIT_SECONDS = 2.0  # the longest pause before a refused login is answered
MAX_TARPIT = 256  # refused logins paused at once; more are answered without a pause


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413.

    A declared ``Content-Length`` over the limit is refused before anything is read (the server
    itself holds a client to the length it declared). A body without a length (chunked) is read
    here up to the limit, then handed on; one byte more and it is refused. No request can make
    the server hold more than ``max_bytes`` of its body.
    """

    def __init__(self, app: App, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send
                       ) -> None:
        """Serve one request, refusing its body when it is over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False  # the server refuses a malformed length itself
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self) -> str:
        return _("the request body is larger than {size} KiB; send less, or raise "
                 "security.max_body_kb in tierwise.yaml").format(size=number(self.max_bytes // 1024))

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, "too_large", self._message(), [(b"connection", b"close")])


class LoginThrottle:
    """ASGI middleware: a client over its login rate gets 429 before anything else runs.

    A login flood is answered here, before routing, body parsing or any store access, so it
    costs the server little and other clients keep their speed. The refusal is sent after a
    pause of up to ``TARPIT_SECONDS`` (awaited, so it holds no thread): a client that sends its
    next attempt when the last is answered slows itself down, and one that opens connections in
    parallel finds at most ``MAX_TARPIT`` of them paused and the rest answered at once. The API
    gets its JSON error; the
    dashboard's form is sent back to the login page, which says in the page's language how long
    to wait. The per-user limit needs the user name from the body and is charged in the login
    routes.
    """

    def __init__(self, app: App, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter
        self.paused = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send
                       ) -> None:
        """Refuse a login over the address's rate; pass everything else on."""
        path = scope.get("path")
        if scope["type"] == "http" and scope.get("method") == "POST" and path in (
                API_LOGIN, PAGE_LOGIN):
            client = (scope.get("client") or ("unknown", 0))[0][:100]
            try:
                self.limiter.check(LOGIN, client=client)
            except RateLimited as exc:
                await self._pause(exc.retry_after)
                retry = str(exc.retry_after).encode()
                if path == PAGE_LOGIN:
                    await send({"type": "http.response.start", "status": 303, "headers": [
                        (b"location", b"/login?wait=" + retry), (b"retry-after", retry),
                        (b"content-length", b"0"), (b"cache-control", b"no-store")]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                status, code = status_of(exc)
                await _answer(send, status, code, str(exc), [(b"retry-after", retry)])
                return
        await self.app(scope, receive, send)


    async def _pause(self, retry_after: int) -> None:
        if self.paused >= MAX_TARPIT:
            return
        self.paused += 1  # one event loop: no lock needed
        try:
            await asyncio.sleep(min(float(retry_after), TARPIT_SECONDS))
        finally:
            self.paused -= 1


async def _answer(send: Send, status: int, code: str, message: str,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    import json

    content = json.dumps(body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(content)).encode()),
                            (b"cache-control", b"no-store"), *(headers or [])]})
    await send({"type": "http.response.body", "body": content})
