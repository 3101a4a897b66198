"""Email actions through a real SMTP server (aiosmtpd): the customer's language, their
attributes in the text, the ledger key on each message, refusals and retries."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import write
from tests.services.test_action_plans import PROJECT, write_shop
from tierwise.errors import DeliveryError
from tierwise.services import delivery, mail, runs
from tierwise.services.grading import Project

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class Inbox:
    """Keeps every message; refuses the addresses in ``refuse`` with the code given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        self.messages.append(email.message_from_bytes(  # headers unfolded
            envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd 1.4 cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


WINBACK = """
smtp: {{host: 127.0.0.1, port: {port}, from: care@shop.example}}
"""


def _project(folder: Path, port: int, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{folder.parent / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    text = PROJECT.replace(
        "      customer_id: {type: string}\n  transactions:",
        "      customer_id: {type: string}\n      name: {type: string}\n"
        "      email: {type: string, required: false}\n      lang: {type: string}\n"
        "  transactions:", 1)
    text = text.replace("""  rich_downgrades:
    scheme: tier
    kind: file
    on: down""", """  rich_downgrades:
    scheme: tier
    kind: email
    on: down
    email:
      to: email
      language: lang
      retries: 1
      backoff_seconds: 60
      subject: {en: "We miss you, {name}", zh: "{name}，好久不见"}
      body: {en: "Dear {name}, you are now {to_tier} (was {from_tier}). {{not a field}}",
             zh: "亲爱的{name}：您现在是{to_tier}（之前是{from_tier}）。"}""")
    write_shop(folder, text + WINBACK.format(port=port))
    rows = ["customer_id,name,email,lang"]
    for i in range(300):
        address = "" if i % 25 == 7 else f"c{i:03d}@mail.example"
        rows.append(f"C{i:03d},Customer {i},{address},{'zh-CN' if i % 2 else 'en'}")
    write(folder, "customers.csv", "\n".join(rows) + "\n")
    runs.backfill(Project.open(folder), ["tier"], [date(2026, 5, 31), date(2026, 6, 30)])
    return Project.open(folder)


def _entries(project: Project) -> list[Any]:
    store = runs.open_store(project)
    try:
        with store.read() as tx:
            return tx.actions.entries("rich_downgrades")
    finally:
        store.close()


def test_messages_in_each_customers_language(tmp_path: Path, inbox: tuple[Inbox, int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = inbox
    project = _project(tmp_path / "shop", port, monkeypatch)
    planned = _entries(project)
    refused = next(e for e in planned if int(e.customer_id[1:]) % 25 != 7)
    box.refuse[f"c{int(refused.customer_id[1:]):03d}@mail.example"] = "550 no such user"
    done = delivery.deliver(project, runs.open_store(project), "rich_downgrades",
                            now=lambda: T0)
    by_key = {m["X-Tierwise-Key"]: m for m in box.messages}
    assert len(by_key) == done.sent == len(planned) - done.dead > 10
    dead_keys = {e.key for e in _entries(project) if e.status == "dead"}
    for e in planned:
        if e.key in dead_keys:
            continue
        m = by_key[e.key]
        i = int(e.customer_id[1:])
        assert m["To"] == f"c{i:03d}@mail.example" and m["Message-ID"] == f"<{e.key}@tierwise>"
        body = m.get_content()  # type: ignore[attr-defined]
        if i % 2:
            assert m["Subject"] == f"Customer {i}，好久不见"
            assert f"您现在是{e.to_tier}（之前是{e.from_tier}）" in body
        else:
            assert m["Subject"] == f"We miss you, Customer {i}"
            assert f"you are now {e.to_tier} (was {e.from_tier}). {{not a field}}" in body
    # Refused for good (550) and no address: dead at once, with the reason.
    dead = {e.customer_id: e.last_error for e in _entries(project) if e.status == "dead"}
    assert refused.customer_id in dead and "550" in (dead[refused.customer_id] or "")
    blank = [c for c in dead if int(c[1:]) % 25 == 7]
    assert blank and all("no address in column email" in (dead[c] or "") for c in blank)


def test_a_server_that_is_down_is_retried(tmp_path: Path, inbox: tuple[Inbox, int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = inbox
    project = _project(tmp_path / "shop", port, monkeypatch)
    first = next(e for e in _entries(project) if int(e.customer_id[1:]) % 25 != 7)
    box.refuse[f"c{int(first.customer_id[1:]):03d}@mail.example"] = "451 try again later"
    store = runs.open_store(project)
    delivery.deliver(project, store, "rich_downgrades", now=lambda: T0)
    assert next(e for e in _entries(project) if e.key == first.key).status == "failed"
    box.refuse.clear()
    later = delivery.deliver(project, store, "rich_downgrades",
                             now=lambda: T0 + timedelta(seconds=60))
    keys = [m["X-Tierwise-Key"] for m in box.messages]
    assert later.sent == 1 and first.key in keys, (first.key, keys[-3:], len(keys))
    store.close()


CRASHING = """
import sys
from tierwise.services import delivery, runs
from tierwise.services.grading import Project
project = Project.open(sys.argv[1])
delivery.deliver(project, runs.open_store(project), "rich_downgrades")
"""


@pytest.mark.parametrize("point", ["before_send@2", "after_send@2", "after_record@2"])
def test_a_crash_while_mailing_reaches_each_customer_once(
        tmp_path: Path, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch,
        point: str) -> None:
    box, port = inbox
    project = _project(tmp_path / "shop", port, monkeypatch)
    killed = subprocess.run([sys.executable, "-c", CRASHING, str(project.root)],
                            env={**os.environ, runs.FAULT_ENV: point}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert killed.returncode == -9, killed.stderr
    assert len(box.messages) == {"before_send@2": 1}.get(point, 2)
    store = runs.open_store(project)
    delivery.deliver(project, store, "rich_downgrades", now=lambda: T0)
    store.close()
    sent = {e.key for e in _entries(project) if e.status == "sent"}
    keys = [m["X-Tierwise-Key"] for m in box.messages]
    assert set(keys) == sent and len(sent) > 2
    # Only a message sent but not recorded goes twice, under the same key (and Message-ID).
    assert len(keys) == len(sent) + (1 if point == "after_send@2" else 0)


def test_an_unreachable_server_sends_nothing_and_keeps_the_rows_due(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project = _project(tmp_path / "shop", port, monkeypatch)
    before = {e.key: (e.status, e.attempts) for e in _entries(project)}
    store = runs.open_store(project)
    with pytest.raises(DeliveryError, match=rf"cannot reach the SMTP server 127.0.0.1:{port} "
                                            r".*nothing was sent and the messages stay due"):
        delivery.deliver(project, store, "rich_downgrades", now=lambda: T0)
    store.close()
    assert {e.key: (e.status, e.attempts) for e in _entries(project)} == before


def test_templates_fill_plain_names_only() -> None:
    fields = {"name": "王芳", "tier": "gold"}
    assert mail.render("{name} {{x}} {missing} {name.__class__}", fields) == (
        "王芳 {x} {missing} {name.__class__}")
