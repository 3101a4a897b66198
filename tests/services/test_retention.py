"""Retention: a confidential scheme's records cannot be deleted before their time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.api.test_confidential import SECRET
from tierwise.errors import ConflictError, NotFoundError
from tierwise.services import retention, runs
from tierwise.services.grading import Project


@pytest.fixture
def graded(months: Path) -> Project:
    path = months / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8") + SECRET, encoding="utf-8")
    project = Project.open(months)
    done = runs.backfill(project, ["tier", "aml_secret"], [date(2026, 5, 31), date(2026, 6, 30)])
    assert all(o.status == "done" for o in done)
    return project


def test_retention_blocks_early_deletion_then_allows_it(graded: Project) -> None:
    store = runs.open_store(graded)
    folder = graded.root / graded.spec.output / "aml_secret"
    try:
        assert retention.retained_until(store, "aml_secret") == date(2036, 6, 30)
        with pytest.raises(ConflictError, match="must be kept until 2036-06-30"):
            retention.delete_scheme(graded, store, "aml_secret", actor="ada",
                                    today=date(2036, 6, 29))
        with store.read() as tx:  # nothing went
            assert len(tx.runs.listing("aml_secret")) == 2
            assert tx.schemes.versions("aml_secret")
        assert folder.is_dir()
        gone = retention.delete_scheme(graded, store, "aml_secret", actor="ada",
                                       today=date(2036, 6, 30))
        assert (gone.runs, gone.versions) == (2, 1) and not folder.exists()
        with store.read() as tx:
            with pytest.raises(NotFoundError):
                tx.schemes.scheme_id("aml_secret")
            assert tx.runs.listing("tier")  # the other scheme is untouched
            events = [e.action for e in tx.audit.events(object_type="scheme",
                                                        object_id="aml_secret")]
            assert events[0] == "scheme.deleted" and tx.audit.verify().ok
        # Gone, its records stay confidential: a supervisor's view of the audit log has none.
        from tierwise.services import access
        from tierwise.store import visibility
        from tierwise.store.users import User

        supervisor = User(0, "sue", None, "supervisor", False, 1)
        with visibility.scope():
            access.enter(store, supervisor)
            with store.read() as tx:
                seen = tx.audit.events(limit=1000)
            assert seen and not any("aml_secret" in f"{e.object_id}{e.before}{e.after}"
                                    or (e.object_type == "run" and e.before is None
                                        and "lvl_" in str(e.after)) for e in seen)
    finally:
        store.close()


def test_a_scheme_without_retention_is_deleted_at_once(graded: Project) -> None:
    store = runs.open_store(graded)
    try:
        assert retention.retained_until(store, "tier") is None
        gone = retention.delete_scheme(graded, store, "tier", actor="ada")
        assert gone.runs == 2
        with pytest.raises(NotFoundError):
            retention.delete_scheme(graded, store, "tier", actor="ada")
    finally:
        store.close()


def test_dropping_confidential_later_does_not_shorten_retention(graded: Project) -> None:
    path = graded.root / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    confidential: {roles: [compliance, auditor]}\n", ""), encoding="utf-8")
    project = Project.open(graded.root)
    runs.backfill(project, ["aml_secret"], [date(2026, 7, 31)])
    store = runs.open_store(project)
    try:
        with store.read() as tx:
            assert len(tx.schemes.versions("aml_secret")) == 2
        # Kept ten years from the latest run, though the newest version is not confidential.
        assert retention.retained_until(store, "aml_secret") == date(2036, 7, 31)
    finally:
        store.close()


def test_the_delete_command_asks_for_confirmation_and_says_until_when(graded: Project) -> None:
    from tests.cli.running import invoke

    unconfirmed = invoke("scheme", "delete", "aml_secret", "-p", graded.root)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
    refused = invoke("scheme", "delete", "aml_secret", "--yes", "-p", graded.root)
    assert refused.exit_code == 1 and "must be kept until 2036-06-30" in refused.output
    done = invoke("scheme", "delete", "tier", "--yes", "-p", graded.root)
    assert done.exit_code == 0 and "deleted tier: 2 runs" in done.output
    assert "still in tierwise.yaml" in done.output


def test_retention_reads_a_version_saved_under_an_earlier_rule(graded: Project) -> None:
    import sqlalchemy as sa

    from tierwise.store.tables import scheme_versions

    store = runs.open_store(graded)
    try:
        with store.begin() as conn:  # a stored spec today's model would refuse
            row = conn.execute(sa.select(scheme_versions.c.id, scheme_versions.c.spec)).all()
            for vid, spec in row:
                if isinstance(spec, dict) and spec.get("confidential"):
                    old = {**spec, "factors": [{k: v for k, v in f.items() if k != "default"}
                                               for f in spec["factors"]]}
                    conn.execute(sa.update(scheme_versions).where(scheme_versions.c.id == vid)
                                 .values(spec=old))
        assert retention.retained_until(store, "aml_secret") == date(2036, 6, 30)
    finally:
        store.close()
