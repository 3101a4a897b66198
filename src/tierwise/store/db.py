"""Opening a store: the SQLAlchemy engine, the SQLite settings, and migrations on open.

A store is a SQLite file in the project by default (``.tierwise/store.db``), or any SQLAlchemy URL
(PostgreSQL in production) from ``TIERWISE_STORE_URL`` or the project's ``store:``. Opening a store
migrates it to the current schema with Alembic, so a store written by an older tierwise keeps
working after an upgrade.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tierwise.errors import StoreError

if TYPE_CHECKING:
    from tierwise.store.repos import Tx

ENV_URL = "TIERWISE_STORE_URL"
_MIGRATE_LOCK = threading.Lock()
_MIGRATED: set[str] = set()
_HEAD = "head"


def default_url(root: Path, configured: str | None = None) -> str:
    """The store URL of a project: the environment, else the project's, else the SQLite file."""
    url = os.environ.get(ENV_URL) or configured
    if url:
        return url
    folder = root / ".tierwise"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'store.db'}"


def _hide_password(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


class Store:
    """An open store. Use :meth:`begin` for a transaction and :meth:`connect` to read."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to the store at ``url`` and bring its schema up to date.

        Raises:
            StoreError: when the database cannot be reached or migrated.

        """
        try:
            parsed = sa.make_url(url)
        except Exception as exc:
            raise StoreError(
                f"store URL {url!r} is not a SQLAlchemy URL ({exc}); use e.g. "
                "sqlite:///path/store.db or postgresql+psycopg://user@host/db"
            ) from exc
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": 60}
        elif parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            # psycopg 3 is the driver tierwise installs (extra `postgres`).
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            engine = sa.create_engine(parsed, **kwargs)
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"the driver for {_hide_password(url)} is not installed ({exc.name}); "
                "install it, e.g. pip install 'tierwise[postgres]'"
            ) from exc
        if engine.dialect.name == "sqlite":
            _sqlite_settings(engine)
        store = cls(engine, url)
        if migrate:
            # Alembic keeps its context in module globals: one migration at a time per process,
            # and a store checked once per process is not checked again on every open.
            with _MIGRATE_LOCK:
                if url not in _MIGRATED:
                    store.migrate()
                    _MIGRATED.add(url)
        return store

    def migrate(self, revision: str = _HEAD) -> None:
        """Upgrade the schema to ``revision`` (default: the newest)."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                config = _alembic_config(connection)
                command.upgrade(config, revision)
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"cannot open the store at {_hide_password(self.url)}: {exc.orig}; check that "
                f"the database server runs and the URL ({ENV_URL}) is right"
            ) from exc

    def revision(self) -> str | None:
        """The schema revision the store is at (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self.engine.connect() as connection:
            connection.execution_options(tierwise_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection for reading."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """The repositories on a connection for reading (see :mod:`tierwise.store.repos`)."""
        from tierwise.store.repos import Tx

        with self.connect() as connection:
            yield Tx(connection)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """The repositories in a transaction, committed when the block ends."""
        from tierwise.store.repos import Tx

        with self.begin() as connection:
            yield Tx(connection)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


def _alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config


def _sqlite_settings(engine: sa.Engine) -> None:
    """WAL, foreign keys, and write transactions (:meth:`Store.begin`) that lock at BEGIN.

    WAL lets readers work beside a writer; taking the write lock at BEGIN makes two writers
    queue instead of one failing half-way through its transaction.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # Readers begin deferred, so they never wait for (or hold up) a writer.
        write = connection.get_execution_options().get("tierwise_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
