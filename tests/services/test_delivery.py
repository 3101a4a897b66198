"""Webhook and file delivery from the ledger, against a real local HTTP receiver: signatures,
retries with backoff, the dead letter, timeouts, the rate limit, and exactly-once effect
across a crash between a post and its record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest

from tests.services.test_action_plans import PROJECT, write_shop
from tierwise.errors import SpecError
from tierwise.services import delivery, runs
from tierwise.services.grading import Project

SECRET = "s3cret-for-tests"
T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class Receiver:
    """A local webhook receiver: answers with the statuses queued per key, else 200; keeps
    every post and the set of keys it acted on (a repeated key is acknowledged, not acted on)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.acted: set[str] = set()
        self.fail: dict[str, list[int]] = {}
        self.always: int | None = None
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                outer.posts.append({"key": key, "body": body, "headers": dict(self.headers)})
                time.sleep(outer.delay)
                queued = outer.fail.get(key) or []
                status = queued.pop(0) if queued else (outer.always or 200)
                if status == 200:
                    outer.acted.add(key)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try later")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def _project(folder: Path, receiver: Receiver, **hook: object) -> Project:
    """The shop with its gold coupon as a webhook to ``receiver``, graded on two dates."""
    settings = {"url": receiver.url, "secret_env": "TW_TEST_HOOK_SECRET", "retries": 2,
                "backoff_seconds": 10, "timeout_seconds": 1, "per_minute": 6000, **hook}
    text = PROJECT.replace("    kind: file\n    on: enter\n",
                           f"    kind: webhook\n    webhook: {json.dumps(settings)}\n"
                           "    on: enter\n", 1)
    project = write_shop(folder, text)
    runs.backfill(project, ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    return project


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("TW_TEST_HOOK_SECRET", SECRET)
    return tmp_path / "shop"


def _planned(project: Project) -> list[Any]:
    store = runs.open_store(project)
    try:
        with store.read() as tx:
            return [e for e in tx.actions.entries("gold_coupon") if e.status not in
                    ("holdout", "over_budget")]
    finally:
        store.close()


def test_posts_are_signed_paced_and_recorded(env: Path, receiver: Receiver) -> None:
    project = _project(env, receiver, per_minute=600)
    planned = _planned(project)
    waits: list[float] = []
    done = delivery.deliver(project, runs.open_store(project), "gold_coupon",
                            now=lambda: T0, sleep=waits.append)
    assert done.sent == len(planned) > 5 and done.failed == done.dead == 0
    assert {p["key"] for p in receiver.posts} == {e.key for e in planned}
    store = runs.open_store(project)
    with store.read() as tx:  # the control group was planned, and nothing went to it
        held = {e.key for e in tx.actions.entries("gold_coupon", status="holdout")}
    store.close()
    assert held and not held & {p["key"] for p in receiver.posts}
    first = receiver.posts[0]
    stamp = first["headers"]["X-Tierwise-Timestamp"]
    assert stamp == str(int(T0.timestamp()))
    assert first["headers"]["X-Tierwise-Signature"] == delivery.signature(SECRET, stamp,
                                                                           first["body"])
    assert delivery.signature("wrong", stamp, first["body"]) != \
        first["headers"]["X-Tierwise-Signature"]
    body = json.loads(first["body"])
    assert body["key"] == first["key"] and body["action"] == "gold_coupon"
    assert body["to_tier"] == "gold" and body["edge"] == "enter"
    # 600 a minute: at least 0.1 s between posts (the first waits for nothing).
    assert waits and all(0 < w <= 0.1 for w in waits)
    assert all(e.status == "sent" and e.attempts == 1 for e in _planned(project))
    # Nothing is due any more: a second call posts nothing.
    again = delivery.deliver(project, runs.open_store(project), "gold_coupon", now=lambda: T0)
    assert again.sent == 0 and len(receiver.posts) == len(planned)


def test_retries_back_off_then_the_dead_letter(env: Path, receiver: Receiver) -> None:
    project = _project(env, receiver)
    planned = _planned(project)
    lucky, unlucky = planned[0].key, planned[1].key
    receiver.fail = {lucky: [500, 503]}  # two failures, then taken
    receiver.always = None
    store = runs.open_store(project)
    for e in planned[1:]:
        receiver.fail[e.key] = [500, 500, 500, 500]  # never taken within 1 + 2 tries
    first = delivery.deliver(project, store, "gold_coupon", now=lambda: T0, sleep=lambda s: None)
    assert first.failed == len(planned) and first.sent == 0
    # Not due again before the backoff (10 s), then due; the second wait doubles (20 s).
    soon = delivery.deliver(project, store, "gold_coupon", now=lambda: T0 + timedelta(seconds=9))
    assert soon.sent == soon.failed == 0
    second = delivery.deliver(project, store, "gold_coupon",
                              now=lambda: T0 + timedelta(seconds=10), sleep=lambda s: None)
    assert second.failed == len(planned)
    early = delivery.deliver(project, store, "gold_coupon",
                             now=lambda: T0 + timedelta(seconds=29))
    assert early.sent == early.failed == 0
    third = delivery.deliver(project, store, "gold_coupon",
                             now=lambda: T0 + timedelta(seconds=30), sleep=lambda s: None)
    assert third.sent == 1 and third.dead == len(planned) - 1
    with store.read() as tx:
        dead = tx.actions.entries("gold_coupon", status="dead")
        sent = tx.actions.entries("gold_coupon", status="sent")
    assert [e.key for e in sent] == [lucky] and sent[0].attempts == 3
    assert unlucky in {e.key for e in dead} and all("HTTP 500" in (e.last_error or "")
                                                     for e in dead)
    later = delivery.deliver(project, store, "gold_coupon", now=lambda: T0 + timedelta(days=1))
    assert later.sent == later.failed == later.dead == 0  # the dead letter is not retried
    store.close()


def test_a_timeout_is_a_failure_and_a_missing_secret_sends_nothing(
        env: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(env, receiver, timeout_seconds=0.2)
    store = runs.open_store(project)
    monkeypatch.delenv("TW_TEST_HOOK_SECRET")
    with pytest.raises(SpecError, match="set the environment variable TW_TEST_HOOK_SECRET"):
        delivery.deliver(project, store, "gold_coupon", now=lambda: T0)
    assert receiver.posts == [] and all(e.status == "planned" for e in _planned(project))
    monkeypatch.setenv("TW_TEST_HOOK_SECRET", SECRET)
    receiver.delay = 0.5
    done = delivery.deliver(project, store, "gold_coupon", now=lambda: T0, limit=2,
                            sleep=lambda s: None)
    assert done.failed == 2
    with store.read() as tx:
        failed = tx.actions.entries("gold_coupon", status="failed")
    assert all(e.last_error == "no answer within the timeout" for e in failed)
    store.close()


CRASHING = """
import sys
from tierwise.services import delivery, runs
from tierwise.services.grading import Project
project = Project.open(sys.argv[1])
delivery.deliver(project, runs.open_store(project), "gold_coupon")
"""


#: Every step of the send loop, for the first customer and for the third: (point, customers
#: whose post went out before the kill, of them recorded as sent).
STEPS = {"before_send@1": (0, 0), "after_send@1": (1, 0), "after_record@1": (1, 1),
         "before_send@3": (2, 2), "after_send@3": (3, 2), "after_record@3": (3, 3)}


@pytest.mark.parametrize("point", list(STEPS))
def test_a_crash_in_the_send_loop_acts_once_per_customer(env: Path, receiver: Receiver,
                                                          point: str) -> None:
    project = _project(env, receiver)
    planned = _planned(project)
    posted, recorded = STEPS[point]
    killed = subprocess.run([sys.executable, "-c", CRASHING, str(project.root)],
                            env={**os.environ, runs.FAULT_ENV: point}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert killed.returncode == -9, killed.stderr
    assert len(receiver.posts) == posted
    assert sum(e.status == "sent" for e in _planned(project)) == recorded
    done = delivery.deliver(project, runs.open_store(project), "gold_coupon",
                            sleep=lambda s: None)
    assert done.sent == len(planned) - recorded
    # A post the crash did not record went again under the same key; acted on once.
    keys = [p["key"] for p in receiver.posts]
    assert len(keys) == len(planned) + (posted - recorded)
    assert receiver.acted == {e.key for e in planned}
    assert all(e.status == "sent" for e in _planned(project))


def test_a_file_drop_per_run(env: Path, receiver: Receiver) -> None:
    project = _project(env, receiver)
    assert project.spec.actions["rich_downgrades"].kind == "file"
    store = runs.open_store(project)
    done = delivery.deliver(project, store, "rich_downgrades")
    with store.read() as tx:
        rows = tx.actions.entries("rich_downgrades")
    assert done.sent == len(rows) > 0 and all(e.status == "sent" for e in rows)
    by_run = {e.run_id for e in rows}
    assert sorted(p.name for p in done.files) == sorted(
        f"rich_downgrades-run{r}.csv" for r in by_run)
    for path in done.files:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        table = pacsv.read_csv(path)
        run_id = int(path.stem.split("run")[1])
        assert sorted(table["customer_id"].to_pylist()) == sorted(
            e.customer_id for e in rows if e.run_id == run_id)
    assert not list((project.root / "actions").glob(".*partial"))
    store.close()
