"""Properties of overrides in the store: expiry bounds when they apply; no self-approval."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.errors import PermissionDenied
from tierwise.store import Store
from tierwise.store import overrides as store_overrides
from tierwise.store import schemes as store_schemes
from tierwise.store.overrides import OverrideRequest

TIERS = ["gold", "silver", "bronze"]
BASE = date(2025, 1, 1)
_ids = itertools.count()
FIXTURE_OK = settings(max_examples=25, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def _scheme(store: Store) -> str:
    with store.begin() as conn:
        store_schemes.scheme_id(conn, "value", create=True)
    return "value"


@FIXTURE_OK
@given(start=st.integers(0, 300), length=st.one_of(st.none(), st.integers(1, 200)),
       day=st.integers(-30, 600), kind=st.sampled_from(["pin", "floor", "ceiling", "exclude"]))
def test_an_override_applies_exactly_from_its_start_until_its_expiry(
        store: Store, start: int, length: int | None, day: int, kind: str) -> None:
    scheme = _scheme(store)
    customer = f"C{next(_ids)}"
    begins = BASE + timedelta(start)
    expires = begins + timedelta(length) if length else None
    with store.begin() as conn:
        asked = OverrideRequest(scheme, customer, kind=kind,
                                tier=None if kind == "exclude" else "gold", reason="property",
                                valid_from=begins, expires=expires)
        made = store_overrides.create(conn, asked, author="analyst", tiers=TIERS,
                                      require_approval=False)
    on = BASE + timedelta(day)
    with store.connect() as conn:
        applies = any(o.id == made.id for o in store_overrides.in_force(conn, scheme, on))
    assert applies == (begins <= on and (expires is None or on < expires))
    with store.begin() as conn:
        store_overrides.revoke(conn, made.id, actor="analyst")


@FIXTURE_OK
@given(author=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
       decision=st.sampled_from(["approve", "reject"]))
def test_the_author_can_never_decide_their_own_override(store: Store, author: str,
                                                       decision: str) -> None:
    scheme = _scheme(store)
    with store.begin() as conn:
        asked = OverrideRequest(scheme, f"C{next(_ids)}", kind="pin", tier="silver",
                                reason="property", valid_from=BASE)
        made = store_overrides.create(conn, asked, author=author, tiers=TIERS,
                                      require_approval=True)
    with pytest.raises(PermissionDenied), store.begin() as conn:
        getattr(store_overrides, decision)(conn, made.id, approver=author)
    with store.connect() as conn:
        assert store_overrides.get(conn, made.id).status == "pending"
        # Pending: not applied.
        assert all(o.id != made.id
                   for o in store_overrides.in_force(conn, scheme, BASE + timedelta(1)))
    with store.begin() as conn:
        decided = getattr(store_overrides, decision)(conn, made.id, approver=author + "x")
    assert decided.decided_by == author + "x"
