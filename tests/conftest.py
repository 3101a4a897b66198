"""Shared fixtures: small projects written to a temporary folder."""

from __future__ import annotations

import os
import secrets
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwise import i18n
from tierwise.store import Store

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def write(folder: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


@pytest.fixture
def tmp_project(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(autouse=True)
def _no_login(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test acts as the developer's own `tierwise login`, nor leaves one behind."""
    monkeypatch.delenv("TIERWISE_TOKEN", raising=False)
    monkeypatch.setenv("TIERWISE_TOKEN_FILE",
                       str(tmp_path_factory.mktemp("login") / "tokens.json"))


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in English, whatever language an earlier test's command chose.

    A command sets the language for the rest of its context (one process per command in real
    use); CliRunner runs every command in the test's own thread, so it would leak into the next.
    """
    with i18n.use(i18n.DEFAULT):
        yield


# Store fixtures: store tests run on SQLite and on PostgreSQL.
# PostgreSQL comes from TIERWISE_TEST_PG_URL (scripts/test starts a throwaway server and sets
# it); each test gets a database of its own, dropped afterwards. Without the variable the
# PostgreSQL cases are skipped, except under CI, where they fail.

PG_ENV = "TIERWISE_TEST_PG_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _postgres_url() -> str:
    base = os.environ.get(PG_ENV)
    if base:
        return base
    reason = (
        f"PostgreSQL store tests need {PG_ENV} (e.g. "
        "postgresql+psycopg://tierwise@127.0.0.1:54329/postgres, a role with CREATEDB); "
        "scripts/test starts a throwaway server and sets it"
    )
    if _in_ci():
        pytest.fail(f"CI is set but {PG_ENV} is not: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = sa.make_url(_postgres_url())
    name = f"tw_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:
        admin.dispose()
        raise
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    """Drop a test database. FORCE ends connections a failed test left open; it cannot end a
    superuser's (an autovacuum worker's) as the test role, so that case waits and retries."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError:
            if attempt == 19:
                raise
            time.sleep(0.5)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store at the newest schema."""
    opened = Store.open(store_url)
    yield opened
    opened.close()
