"""The b2b example's pipeline intent: classes from CRM contacts and the follow-ups they set."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tierwise.demo import write_b2b
from tierwise.demo._b2b import OWNERS

from .conftest import AS_OF, read


@pytest.mark.slow
def test_intent_classes_set_follow_ups_per_owner(tmp_path: Path) -> None:
    from tierwise.services import runs, tasks
    from tierwise.services.demo import copy_example
    from tierwise.services.grading import Project

    copy_example("b2b", tmp_path)
    write_b2b(tmp_path / "data")
    project = Project.open(tmp_path)
    outcome, = runs.run(project, ["intent"], force=True)
    grades = pq.read_table(Path(str(outcome.folder)) / "grades.parquet").to_pylist()
    tiers = {r["customer_id"]: r["tier"] for r in grades}
    assert all(n > 0 for n in Counter(tiers.values()).values())
    assert set(tiers.values()) == {"interested", "not_now", "hesitating", "no_deal"}

    contacts = read(tmp_path / "data", "interactions.csv")
    recent = contacts[contacts["contact_date"] > str(AS_OF - timedelta(days=120))]
    # No contact in 120 days is no deal; a quote in 60 days is interested.
    assert {c for c, t in tiers.items() if t == "no_deal"} == set(tiers) - set(
        recent["customer_id"])
    quoted = recent[(recent["kind"] == "quote")
                    & (recent["contact_date"] > str(AS_OF - timedelta(days=60)))]
    assert {tiers[c] for c in quoted["customer_id"]} == {"interested"}

    found = tasks.open_tasks(project, runs.open_store(project), today=AS_OF)
    assert len(found.tasks) == sum(t != "no_deal" for t in tiers.values())
    owners = {o for names in OWNERS.values() for o in names}
    assert {t.owner for t in found.tasks} <= owners
    # The date given at the latest contact that gave one (the larger on the same day).
    given_rows = recent[recent["expected_purchase"] != ""].sort_values(
        ["contact_date", "expected_purchase"])
    last_given = given_rows.groupby("customer_id")["expected_purchase"].last()
    for t in found.tasks:
        if t.action == "call_interested":  # Tuesday 30 June + 2 working days
            assert t.due_on == date(2026, 7, 2)
        elif t.action == "nurture_hesitating":  # + 10 working days
            assert t.due_on == date(2026, 7, 14)
        elif t.customer_id in last_given.index:  # a month before the date they gave
            given = date.fromisoformat(last_given[t.customer_id])
            assert t.due_on == max(given - timedelta(days=30), AS_OF)
        else:  # no date given: 20 working days
            assert t.due_on == date(2026, 7, 28)
