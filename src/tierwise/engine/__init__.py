"""The adapter to the compute engines: connect, register inputs, execute, write.

Only this package knows whether DuckDB or Spark runs the work; everything above it builds ibis
expressions. It never imports indicators or methods.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import EngineError, QueryTimeout
from tierwise.i18n import N_, _

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from tierwise.spec.models import EngineSpec


@dataclass
class Engine:
    """A connected ibis backend plus the few operations tierwise needs from it."""

    kind: str
    backend: Any
    _session: Any = None
    _tmp: list[str] = field(default_factory=list)
    _made: list[str] = field(default_factory=list)

    @property
    def spark(self) -> Any:
        """The Spark session of a Spark engine (for libraries that take one); None on DuckDB."""
        return self._session if self.kind == "spark" else None

    def register_arrow(self, name: str, table: pa.Table) -> ir.Table:
        """Make an Arrow table available to the engine under a unique name derived from ``name``.

        Raises:
            EngineError: the engine refused the table (e.g. out of memory).

        """
        try:
            return self._register_arrow(name, table)
        except Exception as exc:
            raise EngineError(_("{kind} could not load {name!r}: {driver_message}").format(
                kind=self.kind,
                                  name=name, driver_message=driver_message(exc))
                              ) from exc

    def _register_arrow(self, name: str, table: pa.Table) -> ir.Table:
        unique = f"tw_{name}_{uuid.uuid4().hex[:8]}"
        if self.kind == "duckdb":
            self.backend.con.register(unique, table)
            return self.backend.table(unique)
        # Straight from Arrow: a detour through pandas turns nullable integers into doubles,
        # narrows decimals and reads NaN as null (and, without Arrow, missing text as 'NaN').
        if spark_takes_arrow():
            frame = self._session.createDataFrame(table)
        else:  # PySpark 3.5 takes no Arrow table; Parquet keeps every type too
            import pyarrow.parquet as pq

            folder = tempfile.mkdtemp(prefix="tierwise-")
            self._tmp.append(folder)
            pq.write_table(table, os.path.join(folder, f"{unique}.parquet"))
            frame = self._session.read.parquet(folder)
        frame.createOrReplaceTempView(unique)
        return self.backend.table(unique)

    def read_parquet(self, name: str, path: str | Path | list[str], *,
                     file_column: str | None = None) -> ir.Table:
        """A Parquet file or folder (or a list of files) as a table, read lazily by the engine.

        ``file_column``: add a column of that name holding each row's file path (DuckDB only);
        a filter on it skips whole files without reading them.

        Raises:
            EngineError: the engine cannot open the file (e.g. it is not Parquet, or damaged).

        """
        unique = f"tw_{name}_{uuid.uuid4().hex[:8]}"
        source = [str(p) for p in path] if isinstance(path, list) else str(path)
        options: dict[str, Any] = {}
        if file_column is not None:
            if self.kind != "duckdb":
                raise EngineError(_("only a DuckDB engine names the file of each row; this one "
                                    "is {kind}").format(kind=self.kind))
            options["filename"] = file_column
        try:
            return self.backend.read_parquet(source, table_name=unique, **options)
        except Exception as exc:
            raise EngineError(_("{kind} could not read {source}: {driver_message}").format(
                kind=self.kind,
                                  source=source, driver_message=driver_message(exc))
                              ) from exc

    def execute(self, expr: ir.Expr) -> Any:
        """Run an expression and return the result as a pandas object."""
        try:
            return self.backend.execute(expr)
        except Exception as exc:
            raise self._error(exc, expr) from exc

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run a table expression and return it as an Arrow table."""
        try:
            return self.backend.to_pyarrow(expr)
        except Exception as exc:
            raise self._error(exc, expr) from exc

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` once into an engine-side temporary table, so later reads reuse it."""
        unique = f"tw_{name}_{uuid.uuid4().hex[:8]}"
        try:
            if self.kind == "duckdb":
                made = self.backend.create_table(unique, expr, temp=True)
                self._made.append(unique)
                return made
            frame = self._spark_frame(expr)
            frame.cache().createOrReplaceTempView(unique)
            self._made.append(unique)
            return self.backend.table(unique)
        except Exception as exc:
            raise self._error(exc, expr) from exc

    def write_parquet(self, expr: ir.Table, path: str | Path, *,
                      row_group_size: int | None = None,
                      closed: Mapping[str, Sequence[str]] | None = None) -> bool:
        """Write ``expr`` to one Parquet file, computed and encoded by the engine.

        DuckDB writes with its own threads, straight from the query (about half the time of
        fetching into Arrow and writing from Python at 10M rows); Spark's rows go through Arrow,
        so either engine leaves one file that any reader opens.

        ``closed`` names string columns expected to hold only the given strings or null (a
        tier and its labels). DuckDB then encodes them from that fixed list instead of hashing
        each row's string into the file's dictionary: 0.04 s against 0.2-0.3 s a column at 10M
        rows. The file holds the same plain strings either way; columns of other types are
        written as they are. A value outside its list fails the cast; the file is then written
        again without the lists (``expr`` computed a second time), so a list that misses a
        value costs time, never a wrong or missing file.

        A write that fails removes the part of a new file it wrote, and leaves a file it was
        to replace as it was.

        Returns:
            False when DuckDB found a value outside a ``closed`` list and wrote the file
            without the lists; True otherwise (Spark writes through Arrow and ignores them).
        """
        options = {"row_group_size": row_group_size} if row_group_size else {}
        new = not Path(path).exists()
        try:
            if self.kind == "duckdb":
                if closed and self._copy_closed(expr, path, closed, options, new=new):
                    return True
                self.backend.to_parquet(expr, str(path), **options)
                return not closed
            self._spark_write(expr, path, options)
            return True
        except Exception as exc:
            _remove_partial(Path(path), new=new)
            raise self._error(exc, expr) from exc

    def _copy_closed(self, expr: ir.Table, path: str | Path,
                     closed: Mapping[str, Sequence[str]], options: dict[str, Any], *,
                     new: bool) -> bool:
        """DuckDB's ``COPY`` of ``expr`` with the ``closed`` string columns cast to enums.

        Returns False, having removed what it wrote, when a value is outside its list (the
        caller writes the file plain; a conversion error of the query itself recurs there).
        ``new``: whether ``path`` did not exist before (else it is left as it was).
        """
        import duckdb
        from sqlglot import exp

        def enum(values: Sequence[str]) -> str:
            listed = ", ".join(exp.Literal.string(v).sql(dialect="duckdb")
                               for v in dict.fromkeys(values))
            return f"ENUM({listed})"

        casts = ", ".join(f"CAST({quote_identifier(name)} AS {enum(values)}) AS "
                          f"{quote_identifier(name)}"
                          for name, values in closed.items()
                          if values and name in expr.columns and expr[name].type().is_string())
        query = str(self.backend.compile(expr))
        if casts:
            query = f"SELECT * REPLACE ({casts}) FROM ({query})"
        settings = ["FORMAT parquet", *(f"{key.upper()} {int(value)}"
                                        for key, value in options.items())]
        target = exp.Literal.string(str(path)).sql(dialect="duckdb")
        self.backend._run_pre_execute_hooks(expr)
        try:
            self.backend.raw_sql(f"COPY ({query}) TO {target} ({', '.join(settings)})")
        except duckdb.ConversionException:
            _remove_partial(Path(path), new=new)
            return False
        return True

    def _spark_frame(self, expr: ir.Table) -> Any:
        """``expr`` as a Spark DataFrame.

        ibis registers the in-memory tables an expression joins (a fitted model's cut points,
        a run's overrides) when it executes one; compiled by hand, they are registered here
        first, or Spark finds no such view.
        """
        self.backend._run_pre_execute_hooks(expr)
        return self._session.sql(str(self.backend.compile(expr)))

    def _spark_write(self, expr: ir.Table, path: str | Path, options: dict[str, Any]) -> None:
        """Spark's rows to one Parquet file on the driver, ``SPARK_WRITE_ROWS`` at a time.

        The result is computed once (persisted on the executors) and fetched in slices chosen
        by a hash of each row, so no fetch exceeds the driver's ``spark.driver.maxResultSize``
        (1 GiB by default; 10M customers' grades are more) and the driver holds one slice at a
        time.
        """
        import pyarrow.parquet as pq

        frame = self._spark_frame(expr).persist()
        try:
            rows = frame.count()
            slices = max(1, -(-rows // SPARK_WRITE_ROWS))
            view = f"tw_write_{uuid.uuid4().hex[:8]}"
            frame.selectExpr("*", f"pmod(xxhash64(*), {slices}) AS _tw_slice") \
                .createOrReplaceTempView(view)
            keyed = self.backend.table(view)
            schema = expr.schema().to_pyarrow()
            try:
                with pq.ParquetWriter(str(path), schema) as writer:
                    for number in range(slices):
                        part = keyed.filter(keyed["_tw_slice"] == number).drop("_tw_slice")
                        writer.write_table(self.backend.to_pyarrow(part).cast(schema),
                                           **options)
            finally:
                self._session.catalog.dropTempView(view)
        finally:
            frame.unpersist()

    @contextmanager
    def time_limit(
        self, seconds: float | None, *, what: str = "the query",
        hint: str = N_("ask for less, or run it where no time limit applies"),
    ) -> Iterator[None]:
        """Stop the engine's work inside the block once it has run ``seconds``.

        For work a user starts on a shared server (a search, a preview), so one request
        cannot hold the engine for long. A timer stops the running query: DuckDB through
        ``interrupt()`` on the connection, Spark by cancelling the block's job group
        (``setJobGroup`` in this thread, ``cancelJobGroup`` from the timer). Work that ends
        in time is untouched, and so is work after the block.

        Args:
            seconds: The limit; None for none.
            what: The work, for the message, e.g. ``"the customer search"``.
            hint: How to do with less, for the message.

        Raises:
            QueryTimeout: When the limit stopped the work, saying which limit and how to fix it.
        """
        if seconds is None:
            yield
            return
        lock = threading.Lock()
        state = {"done": False, "fired": False}
        group = f"tierwise-{uuid.uuid4().hex}"
        spark = self._session.sparkContext if self.kind == "spark" else None
        timers: list[threading.Timer] = []

        def start(delay: float) -> None:
            timer = threading.Timer(delay, stop)
            timer.daemon = True
            timers.append(timer)
            timer.start()

        def stop() -> None:
            with lock:  # never after the block: the next query on the connection must run
                if state["done"]:
                    return
                state["fired"] = True
                if spark is not None:
                    spark.cancelJobGroup(group)
                else:
                    self.backend.con.interrupt()
                # An engine drops a stop that finds it idle (between two queries of the
                # block), so keep stopping until the block gives up.
                start(0.1)

        if spark is not None:
            spark.setJobGroup(group, what, interruptOnCancel=True)
        start(seconds)
        try:
            yield
        except Exception as exc:
            if state["fired"]:
                raise QueryTimeout(
                    _("{what} took longer than {seconds:g} s and was stopped; {hint}").format(
                        what=what,
                        seconds=seconds, hint=_(hint)),
                    seconds=seconds,
                ) from exc
            raise
        finally:
            with lock:
                state["done"] = True
                for timer in timers:
                    timer.cancel()
            if spark is not None:  # a null value removes the thread's property
                for key in ("spark.jobGroup.id", "spark.job.description",
                            "spark.job.interruptOnCancel"):
                    spark.setLocalProperty(key, None)

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Drop the tables materialized inside the block when it ends, to free their memory."""
        start = len(self._made)
        try:
            yield
        finally:
            for name in self._made[start:]:
                if self.kind == "duckdb":
                    self.backend.con.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
                else:
                    self._session.catalog.uncacheTable(name)
                    self._session.catalog.dropTempView(name)
            del self._made[start:]

    def sql(self, expr: ir.Expr) -> str:
        """The SQL the engine runs for ``expr`` (for error messages and golden files)."""
        return str(self.backend.compile(expr))

    def _error(self, exc: Exception, expr: ir.Expr) -> EngineError:
        """The engine's failure as an :class:`EngineError`, the SQL on ``.sql``, not in the text.

        The REST API shows the message to callers, so it must not echo the SQL (which holds the
        spec's names and literals); the CLI shows it with ``--debug`` (a note on the exception).
        """
        try:
            sql: str | None = self.sql(expr)
        except Exception:  # the compile error is the interesting one; keep the original
            sql = None
        return EngineError(f"{self.kind} failed: {driver_message(exc)}", sql=sql)

    def cursor(self) -> Engine:
        """Another connection to this DuckDB database, for one thread's queries.

        Tables made with :meth:`keep` are visible to it; closing it leaves the database open.
        """
        import ibis

        if self.kind != "duckdb":
            raise EngineError(_("only a DuckDB engine hands out cursors; this one is {kind}")
                              .format(kind=self.kind))
        return Engine("duckdb", ibis.duckdb.from_connection(self.backend.con.cursor()))

    def keep(self, name: str, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` into a DuckDB table that the engine's cursors see too."""
        try:
            return self.backend.create_table(name, expr, overwrite=False)
        except Exception as exc:
            raise self._error(exc, expr) from exc

    def close(self) -> None:
        """Release the connection (a shared Spark session is left running)."""
        if self.kind == "duckdb":
            self.backend.disconnect()
        for folder in self._tmp:
            shutil.rmtree(folder, ignore_errors=True)
        self._tmp.clear()


_SQL_CONTEXT = re.compile(r"^\s*(LINE \d+:|== SQL|== Physical Plan|== Parsed|== Analyzed)")


def driver_message(exc: BaseException) -> str:
    """An engine's error text without the SQL it quotes.

    DuckDB appends the failing statement (``LINE 1: SELECT ...`` with a caret) and Spark its
    ``== SQL ==`` and plan sections; the lines before them say what failed.
    """
    kept: list[str] = []
    for line in str(exc).strip().splitlines():
        if _SQL_CONTEXT.match(line):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    return text or exc.__class__.__name__


def quote_identifier(name: str, *, dialect: str = "duckdb") -> str:
    """``name`` as one quoted identifier of ``dialect`` (sqlglot's quoting: quotes doubled).

    Every name put into SQL text goes through here (or :func:`quote_table`), never an f-string
    around the bare name: a name holding a quote would otherwise end the identifier and run the
    rest as SQL.
    """
    from sqlglot import exp

    return str(exp.to_identifier(name, quoted=True).sql(dialect=dialect))


def quote_table(name: str, *, schema: str | None = None, dialect: str = "duckdb") -> str:
    """A table name, schema-qualified when ``schema`` is given, each part quoted for ``dialect``."""
    from sqlglot import exp

    return str(exp.table_(name, db=schema, quoted=True).sql(dialect=dialect))


# Rows of a Spark result fetched to the driver at once when writing a file (a slice of 500,000
# grades is about 60 MB of Arrow).
SPARK_WRITE_ROWS = 500_000


def spark_takes_arrow() -> bool:
    """Whether ``createDataFrame`` accepts an Arrow table (PySpark 4.0 and later)."""
    import pyspark

    return int(pyspark.__version__.split(".")[0]) >= 4


_shared_lock = threading.Lock()
_shared_con: Any = None


def _cursor() -> Any:
    """A new cursor on the process's shared embedded DuckDB (created on first use).

    A cursor is a connection of its own to the same in-memory database: its registered tables
    are its own, so threads may use cursors side by side. It costs microseconds where a new
    ``duckdb.connect()`` costs about 9 ms; footers of Parquet files read through it are cached.
    """
    import duckdb

    global _shared_con
    with _shared_lock:
        if _shared_con is None:
            _shared_con = duckdb.connect()
            _shared_con.execute("SET parquet_metadata_cache = true")
        return _shared_con.cursor()


def _arrow(result: Any) -> pa.Table:
    return result.to_arrow_table() if hasattr(result, "to_arrow_table") else (
        result.fetch_arrow_table())


def lookup_parquet(paths: list[str], column: str, value: Any) -> pa.Table:
    """The rows of Parquet files whose ``column`` equals ``value``, on an embedded DuckDB.

    For point lookups such as one customer's history: with files sorted by ``column`` DuckDB
    reads only the row groups whose statistics admit the value. The shared connection caches
    file footers, so a lookup pays neither a connection (about 9 ms through ibis) nor a footer
    read per file again; each call uses its own cursor, so threads may call it.
    """
    cursor = _cursor()
    try:
        return _arrow(cursor.execute(
            "SELECT * FROM read_parquet($paths, union_by_name = true) "
            f"WHERE {quote_identifier(column)} = $v",
            {"paths": paths, "v": value},
        ))
    finally:
        cursor.close()


def compile_sql(expr: ir.Table) -> str:
    """DuckDB SQL for an expression over unbound tables (``ibis.table(schema, name=...)``)."""
    import ibis

    return str(ibis.to_sql(expr, dialect="duckdb"))


def run_sql(sql: str, tables: dict[str, pa.Table]) -> pa.Table:
    """Run ``sql`` (from :func:`compile_sql`) on an embedded DuckDB over Arrow ``tables``."""
    cursor = _cursor()
    try:
        for name, table in tables.items():
            cursor.register(name, table)
        return _arrow(cursor.execute(sql))
    finally:
        cursor.close()


def default_memory_limit() -> str:
    """DuckDB's memory limit when the project sets none: a fifth of the machine's memory.

    DuckDB alone would take up to 80%, and a run's Python side (a learning method's arrays, the
    grades it hands back) needs room beside it: at 10M customers the distinct count of purchase
    days took 7.3 GiB unbounded and 4.2 GiB under a 4 GB limit, spilling the rest to disk. At
    least 2 GB, so a small machine does not spill every query.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "2GB"
    return f"{max(2048, total // 5 // (1 << 20))}MB"


def connect(spec: EngineSpec | None = None, *, base: Path | None = None) -> Engine:
    """Connect to the engine a project asks for.

    Args:
        spec: the project's ``engine:`` section; DuckDB in memory when None.
        base: folder that a relative DuckDB ``path`` resolves against.
    """
    import ibis

    kind = spec.kind if spec else "duckdb"
    if kind == "duckdb":
        path = ":memory:"
        if spec and spec.path:
            path = str((base or Path()) / spec.path)
        config: dict[str, Any] = {
            "memory_limit": spec.memory_limit if spec and spec.memory_limit
            else default_memory_limit(),
            # Spilled data goes to the system's temporary folder, not the working directory
            # (which a service may not be allowed to write).
            "temp_directory": str(Path(tempfile.gettempdir()) / "tierwise-duckdb"),
        }
        if spec and spec.threads:
            config["threads"] = spec.threads
        return Engine("duckdb", ibis.duckdb.connect(path, **config))
    session = spark_session(spec.master if spec else "local[2]", spec.config if spec else None)
    return Engine("spark", ibis.pyspark.connect(session), _session=session)


def _remove_partial(path: Path, *, new: bool) -> None:
    """Remove what a failed DuckDB ``COPY`` to ``path`` left behind.

    A new file, as far as it was written; when replacing a file, DuckDB writes ``tmp_<name>``
    beside it and leaves the old file until the rename, so only that is removed.
    """
    if new:
        path.unlink(missing_ok=True)
    else:
        path.with_name(f"tmp_{path.name}").unlink(missing_ok=True)


# Re-exported: callers start sessions through ``tierwise.engine`` (defined in engine/spark.py).
from tierwise.engine.spark import spark_session  # noqa: E402

__all__ = ["Engine", "connect", "driver_message", "spark_session"]
