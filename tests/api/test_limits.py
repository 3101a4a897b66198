"""The token buckets behind the rate limits, on a clock the test moves."""

from __future__ import annotations

import pytest

from tierwise.http.limits import EXPENSIVE, LOGIN, RateLimited, RateLimiter
from tierwise.spec.models import RateSpec


def test_buckets_refill_at_the_rate_and_hold_a_burst() -> None:
    now = [0.0]
    limiter = RateLimiter({LOGIN: RateSpec(per_minute=6, burst=3)}, clock=lambda: now[0])
    assert [limiter.take(LOGIN, "a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take(LOGIN, "a") == pytest.approx(10.0)  # 6 a minute: one every 10 s
    assert limiter.take(LOGIN, "b") == 0.0  # another key has its own bucket
    now[0] = 10.0
    assert limiter.take(LOGIN, "a") == 0.0
    now[0] = 1000.0  # a long pause refills to the burst, not beyond
    assert [limiter.take(LOGIN, "a") == 0.0 for _ in range(4)] == [True, True, True, False]


def test_a_refusal_names_who_is_over_and_when_to_retry() -> None:
    now = [0.0]
    limiter = RateLimiter({EXPENSIVE: RateSpec(per_minute=60, burst=1)}, clock=lambda: now[0])
    limiter.check(EXPENSIVE, client="10.0.0.1", user="ana")
    with pytest.raises(RateLimited, match="from this address \\(at most 60 a minute\\); try "
                                          "again in 1 s") as refused:
        limiter.check(EXPENSIVE, client="10.0.0.1", user="ana")
    assert refused.value.retry_after == 1
    with pytest.raises(RateLimited, match="from this user"):  # same user, another address
        limiter.check(EXPENSIVE, client="10.0.0.2", user="ana")


def test_refused_logins_are_paused_at_most_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A flood's refusals wait (the flooder slows itself), but only MAX_TARPIT at once."""
    import asyncio
    from types import SimpleNamespace

    from tierwise.http import limits

    paused: list[float] = []

    async def run() -> list[int]:
        release = asyncio.Event()

        async def pause(seconds: float) -> None:
            paused.append(seconds)
            await release.wait()

        monkeypatch.setattr(limits, "asyncio", SimpleNamespace(sleep=pause))
        monkeypatch.setattr(limits, "MAX_TARPIT", 2)
        reached: list[str] = []
        sent: list[dict[str, object]] = []

        async def app(scope: object, receive: object, send: object) -> None:
            reached.append("app")

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b""}

        throttle = limits.LoginThrottle(
            app, RateLimiter({LOGIN: RateSpec(per_minute=1, burst=1)}))  # type: ignore[arg-type]
        scope = {"type": "http", "method": "POST", "path": "/api/v1/auth/login",
                 "client": ("10.6.6.6", 1)}
        await throttle(dict(scope), receive, send)  # type: ignore[arg-type]
        assert reached == ["app"]  # within the burst
        refused = [asyncio.create_task(throttle(dict(scope), receive, send))  # type: ignore[arg-type]
                   for _ in range(4)]
        for _ in range(10):
            await asyncio.sleep(0)
        assert throttle.paused == 2 and len(paused) == 2
        answered = [m["status"] for m in sent if m["type"] == "http.response.start"]
        assert answered == [429, 429]  # the two over MAX_TARPIT, at once
        release.set()
        await asyncio.gather(*refused)
        assert throttle.paused == 0 and reached == ["app"]
        return [int(str(m["status"])) for m in sent if m["type"] == "http.response.start"]

    assert asyncio.run(run()) == [429, 429, 429, 429]
    assert all(0 < p <= 2.0 for p in paused)
