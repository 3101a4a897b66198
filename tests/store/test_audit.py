"""The audit log: a hash chain that shows edits, deletions and a tampered head, on both databases."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tierwise.errors import StoreError
from tierwise.store import Store, audit


def _fill(store: Store, count: int) -> list[audit.AuditEvent]:
    written = []
    for i in range(1, count + 1):
        with store.begin() as conn:
            written.append(audit.append(
                conn,
                actor=f"user{i % 3}",
                action="override.create" if i % 2 else "override.approve",
                object_type="override",
                object_id=str(i % 5),
                before=None if i == 1 else {"tier": "silver", "n": i - 1},
                after={"tier": "gold", "n": i, "until": date(2027, 1, i % 28 + 1), "名": "金"},
            ))
    return written


def _raw(store: Store, sql: str, **params: object) -> None:
    with store.begin() as conn:
        conn.execute(sa.text(sql), params)


def _verify(store: Store) -> audit.AuditReport:
    with store.connect() as conn:
        return audit.verify(conn)


def test_a_chain_of_events_verifies_and_reads_back(store: Store) -> None:
    written = _fill(store, 60)

    report = _verify(store)

    assert report == audit.AuditReport(ok=True, events=60, problems=[])
    assert [e.seq for e in written] == list(range(1, 61))
    assert written[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(written))
    with store.connect() as conn:
        newest = audit.events(conn, limit=3)
    assert [e.seq for e in newest] == [60, 59, 58]
    assert newest[0] == written[-1]
    # Dates come back as ISO text, the parsed JSON otherwise as written.
    assert newest[0].after == {"tier": "gold", "n": 60, "until": "2027-01-05", "名": "金"}
    assert newest[0].at.tzinfo is not None


def test_the_hash_follows_the_documented_formula(store: Store) -> None:
    with store.begin() as conn:
        event = audit.append(conn, actor="ann", action="scheme.activate", object_type="scheme",
                             object_id="value", before=None, after={"b": 1, "a": "é"})
    with store.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM audit_events")).one()
    # Keys sorted, no spaces, non-ASCII kept.
    assert row.after == '{"a":"é","b":1}'
    assert row.before is None
    record = [1, row.at, "ann", "scheme.activate", "scheme", "value", None, row.after]
    text = audit.GENESIS + json.dumps(record, sort_keys=True, ensure_ascii=False,
                                      separators=(",", ":"))
    assert row.hash == event.hash == hashlib.sha256(text.encode()).hexdigest()
    with store.connect() as conn:
        head = conn.execute(sa.text("SELECT seq, hash FROM audit_head")).one()
    assert tuple(head) == (1, event.hash)


def test_an_event_rolls_back_with_its_transaction(store: Store) -> None:
    _fill(store, 2)
    with pytest.raises(RuntimeError), store.begin() as conn:
        audit.append(conn, actor="ann", action="scheme.activate", object_type="scheme",
                     object_id="value")
        raise RuntimeError("the change failed")
    with store.begin() as conn:
        event = audit.append(conn, actor="ann", action="scheme.activate",
                             object_type="scheme", object_id="value")
    assert event.seq == 3
    assert _verify(store).ok


def test_an_edited_event_is_found_at_its_seq(store: Store) -> None:
    _fill(store, 30)
    _raw(store, "UPDATE audit_events SET after = :after WHERE seq = 17",
         after='{"n":17,"tier":"platinum"}')

    report = _verify(store)

    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(17, "edited")]
    message = report.problems[0].message
    assert "seq 17 was edited" in message
    assert "restore audit_events and audit_head from a backup" in message
    assert "the chain after seq 17 cannot be trusted" in message


def test_an_edited_and_rehashed_event_breaks_the_next_link(store: Store) -> None:
    _fill(store, 10)
    # A careful forger recomputes the edited event's own hash; the next event still points at the
    # old one.
    with store.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM audit_events WHERE seq = 4")).one()
    after = '{"tier":"platinum"}'
    record = [4, row.at, row.actor, row.action, row.object_type, row.object_id, row.before, after]
    forged = hashlib.sha256((row.prev_hash + json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))).encode()).hexdigest()
    _raw(store, "UPDATE audit_events SET after = :after, hash = :hash WHERE seq = 4",
         after=after, hash=forged)

    report = _verify(store)

    assert [(p.seq, p.kind) for p in report.problems] == [(5, "reordered")]
    assert "seq 4 was replaced and re-hashed" in report.problems[0].message


def test_a_deleted_middle_event_is_found(store: Store) -> None:
    _fill(store, 20)
    _raw(store, "DELETE FROM audit_events WHERE seq = 9")

    report = _verify(store)

    assert report.events == 19
    assert [(p.seq, p.kind) for p in report.problems] == [(9, "deleted")]
    assert "audit events seq 9 are missing" in report.problems[0].message
    assert "the chain after seq 8 cannot be trusted" in report.problems[0].message


def test_deleted_middle_events_renumbered_to_close_the_gap_are_found(store: Store) -> None:
    _fill(store, 8)
    _raw(store, "DELETE FROM audit_events WHERE seq = 5")
    for seq in (6, 7, 8):
        _raw(store, "UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    _raw(store, "UPDATE audit_head SET seq = 7")

    problems = _verify(store).problems

    # Seq 5 (once 6) points at the deleted event; every renumbered event fails its own hash.
    assert (5, "reordered") in [(p.seq, p.kind) for p in problems]
    assert {p.seq for p in problems if p.kind == "edited"} == {5, 6, 7}


def test_swapped_events_are_found(store: Store) -> None:
    _fill(store, 8)
    _raw(store, "UPDATE audit_events SET seq = -1 WHERE seq = 5")
    _raw(store, "UPDATE audit_events SET seq = 5 WHERE seq = 6")
    _raw(store, "UPDATE audit_events SET seq = 6 WHERE seq = -1")

    found = {(p.seq, p.kind) for p in _verify(store).problems}

    assert {(5, "edited"), (6, "edited"), (5, "reordered"), (6, "reordered"),
            (7, "reordered")} <= found


def test_a_deleted_tail_is_found_through_the_head(store: Store) -> None:
    _fill(store, 12)
    _raw(store, "DELETE FROM audit_events WHERE seq >= 11")

    report = _verify(store)

    assert report.events == 10
    assert [(p.seq, p.kind) for p in report.problems] == [(11, "deleted")]
    assert "seqs 11-12 are missing" in report.problems[0].message
    assert "audit_head says the chain ends at seq 12" in report.problems[0].message


def test_an_edited_head_is_found(store: Store) -> None:
    _fill(store, 5)
    _raw(store, "UPDATE audit_head SET hash = :hash", hash="f" * 64)
    assert [(p.seq, p.kind) for p in _verify(store).problems] == [(5, "head_mismatch")]

    _raw(store, "UPDATE audit_head SET seq = 3")
    problems = _verify(store).problems
    assert [(p.seq, p.kind) for p in problems] == [(3, "head_mismatch")]
    assert "goes on to seq 5" in problems[0].message


def test_a_missing_head_is_found_and_stops_appends(store: Store) -> None:
    _fill(store, 3)
    _raw(store, "DELETE FROM audit_head")

    assert [(p.seq, p.kind) for p in _verify(store).problems] == [(3, "head_mismatch")]
    with pytest.raises(StoreError, match="audit head row is missing but audit_events holds 3"), \
            store.begin() as conn:
        audit.append(conn, actor="ann", action="x", object_type="scheme", object_id="1")


def test_an_empty_log_verifies(store: Store) -> None:
    assert _verify(store) == audit.AuditReport(ok=True, events=0, problems=[])


def test_concurrent_appends_never_fork_the_chain(store: Store) -> None:
    threads, each = 8, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(each):
                # One transaction, one pooled connection per append, as services do.
                with store.begin() as conn:
                    audit.append(conn, actor=f"worker{worker}", action="run.finish",
                                 object_type="run", object_id=f"{worker}-{i}", after={"i": i})
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert errors == []
    report = _verify(store)
    assert report == audit.AuditReport(ok=True, events=threads * each, problems=[])
    with store.connect() as conn:
        seqs = conn.execute(sa.text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, threads * each + 1))


def test_events_filter_and_page_newest_first(store: Store) -> None:
    _fill(store, 30)
    with store.connect() as conn:
        by_object = audit.events(conn, object_type="override", object_id="2")
        by_actor = audit.events(conn, actor="user0", limit=4, offset=1)
        everything = audit.events(conn, limit=1000)
        future = audit.events(conn, since=datetime.now(UTC) + timedelta(minutes=1))
        today = audit.events(conn, since=datetime.now(UTC).date(), limit=5)
        none_of = audit.events(conn, object_type="scheme")

    # object_id is i % 5: seqs 2, 7, 12, 17, 22, 27.
    assert [e.seq for e in by_object] == [27, 22, 17, 12, 7, 2]
    # actor is user{i % 3}: user0 wrote 30, 27, 24, ...; skip one, take four.
    assert [e.seq for e in by_actor] == [27, 24, 21, 18]
    assert [e.seq for e in everything] == list(range(30, 0, -1))
    assert future == []
    assert [e.seq for e in today] == [30, 29, 28, 27, 26]
    assert none_of == []


def test_events_since_compares_times_in_utc(store: Store) -> None:
    _fill(store, 1)
    with store.connect() as conn:
        at = audit.events(conn)[0].at
        # The same instant written in another zone still matches; one microsecond later does not.
        plus8 = at.astimezone(timezone(timedelta(hours=8)))
        assert [e.seq for e in audit.events(conn, since=plus8)] == [1]
        assert audit.events(conn, since=at + timedelta(microseconds=1)) == []


def test_bad_input_is_refused_with_the_field_named(store: Store) -> None:
    with store.begin() as conn:
        with pytest.raises(StoreError, match="audit actor '' is 0 characters long"):
            audit.append(conn, actor="", action="x", object_type="scheme", object_id="1")
        with pytest.raises(StoreError, match=r"audit object_type 's+' is 51 characters"):
            audit.append(conn, actor="ann", action="x", object_type="s" * 51, object_id="1")
        with pytest.raises(StoreError, match="audit after cannot be written as JSON"):
            audit.append(conn, actor="ann", action="x", object_type="scheme", object_id="1",
                         after={1: "a", "b": 2})
        with pytest.raises(StoreError, match="limit -1 and offset 0 must be 0 or more"):
            audit.events(conn, limit=-1)
    assert _verify(store).events == 0
