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
