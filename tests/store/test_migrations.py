"""Migrations: an older store upgrades on open with its rows intact, and the migrated schema is
exactly what tables.py describes, on both databases."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import tierwise.store.db
from tierwise.store import Store, audit, tables

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
# Typed, so each driver gets a value it binds without deprecated adapters.
_AT = sa.bindparam("at", type_=sa.DateTime(timezone=True))


def _head_revision() -> str:
    config = Config()
    migrations = Path(tierwise.store.db.__file__).with_name("migrations")
    config.set_main_option("script_location", str(migrations))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _chain(rows: list[tuple[int, str, str, str, str, str, str | None, str | None]]
           ) -> list[dict[str, object]]:
    """Audit rows with their hashes, computed by the documented formula (not by audit.py)."""
    prev = "0" * 64
    chained = []
    for row in rows:
        text = prev + json.dumps(list(row), sort_keys=True, ensure_ascii=False,
                                 separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).hexdigest()
        keys = ("seq", "at", "actor", "action", "object_type", "object_id", "before", "after")
        chained.append({**dict(zip(keys, row, strict=True)), "prev_hash": prev, "hash": digest})
        prev = digest
    return chained


def _write_0001_rows(store: Store) -> list[dict[str, object]]:
    events = _chain([
        (1, "2026-03-01T09:30:00.000000+00:00", "ann", "scheme.create", "scheme", "1", None,
         '{"name":"value"}'),
        (2, "2026-03-01T09:31:00.000000+00:00", "bo", "scheme.activate", "scheme", "1",
         '{"active":null}', '{"active":1}'),
    ])
    with store.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO schemes (id, name, created_at) VALUES (1, 'value', :at)"
        ).bindparams(_AT), {"at": CREATED})
        conn.execute(sa.text(
            "INSERT INTO scheme_versions (id, scheme_id, number, fingerprint, spec, indicators,"
            " created_at, created_by) VALUES (1, 1, 1, :fp, :spec, :ind, :at, 'ann')"
        ).bindparams(_AT), {"fp": "f" * 64, "spec": '{"method": "rules"}', "ind": "{}", "at": CREATED})
        # forced is left out: its server default must work on both databases.
        conn.execute(sa.text(
            "INSERT INTO runs (id, scheme_id, version_id, as_of, status, official, started_by,"
            " started_at) VALUES (1, 1, 1, :as_of, 'done', :official, 'ann', :at)"
        ).bindparams(_AT, sa.bindparam("as_of", type_=sa.Date()),
                     sa.bindparam("official", type_=sa.Boolean())), {"as_of": date(2026, 2, 28), "official": True, "at": CREATED})
        conn.execute(sa.text(
            "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, before,"
            " after, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :object_type,"
            " :object_id, :before, :after, :prev_hash, :hash)"), events)
        conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :hash)"),
                     {"hash": events[-1]["hash"]})
    return events


def test_a_0001_store_upgrades_on_open_with_its_rows(store_url: str) -> None:
    old = Store.open(store_url, migrate=False)
    old.migrate("0001")
    assert old.revision() == "0001"
    assert "overrides" not in sa.inspect(old.engine).get_table_names()
    events = _write_0001_rows(old)
    old.close()

    store = Store.open(store_url)
    try:
        assert store.revision() == _head_revision()
        assert "overrides" in sa.inspect(store.engine).get_table_names()
        with store.connect() as conn:
            scheme = conn.execute(sa.select(tables.schemes)).one()
            version = conn.execute(sa.select(tables.scheme_versions)).one()
            run = conn.execute(sa.select(tables.runs)).one()
            stored = [dict(r._mapping) for r in conn.execute(
                sa.select(tables.audit_events).order_by(tables.audit_events.c.seq))]
            report = audit.verify(conn)
        assert (scheme.id, scheme.name) == (1, "value")
        # SQLite keeps no time zone: the store writes UTC.
        created = scheme.created_at
        assert (created if created.tzinfo else created.replace(tzinfo=UTC)) == CREATED
        assert (version.spec, version.indicators, version.revision) == ({"method": "rules"}, {}, 1)
        assert (run.as_of, run.official, run.forced) == (date(2026, 2, 28), True, False)
        assert stored == events
        assert report == audit.AuditReport(ok=True, events=2, problems=[])
        with store.begin() as conn:
            assert audit.append(conn, actor="cy", action="override.create",
                                object_type="override", object_id="1").seq == 3
    finally:
        store.close()


def test_the_migrated_schema_matches_tables_py(store: Store) -> None:
    with store.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, tables.metadata) == []


def test_0004_puts_override_governance_into_fingerprints(store_url: str) -> None:
    """A version saved before 0004 (approval outside the fingerprint) gets the fingerprint the
    code computes now, so tierwise.yaml still finds its version after the upgrade."""
    from tierwise.services.versions import fingerprint

    spec = {"method": "rules", "tiers": [{"key": "a", "label": {"en": "A"}}],
            "overrides": {"require_approval": True}}
    old = Store.open(store_url, migrate=False)
    old.migrate("0003")
    with old.begin() as conn:
        conn.execute(sa.text("INSERT INTO schemes (id, name, created_at) VALUES (1, 'v', :at)"
                             ).bindparams(_AT), {"at": CREATED})
        conn.execute(sa.text(
            "INSERT INTO scheme_versions (id, scheme_id, number, fingerprint, spec, indicators,"
            " created_at, created_by) VALUES (1, 1, 1, :fp, :spec, '{}', :at, 'ann')"
        ).bindparams(_AT), {"fp": "0" * 64, "spec": json.dumps(spec), "at": CREATED})
        conn.execute(sa.text("INSERT INTO login_failures (key, failures, first_at) VALUES "
                             "('ann|10.0.0.1', 3, :at)").bindparams(_AT), {"at": CREATED})
    old.close()
    store = Store.open(store_url)
    try:
        with store.connect() as conn:
            version = conn.execute(sa.select(tables.scheme_versions)).one()
            failures = conn.execute(sa.select(tables.login_failures)).all()
    finally:
        store.close()
    assert version.fingerprint == fingerprint(spec, {})
    assert fingerprint(spec, {}) != fingerprint({**spec, "overrides": {}}, {})
    assert failures == []  # counted under the old key format: started afresh
