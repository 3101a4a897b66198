"""Reading database sources: a SQLAlchemy URL's table or query, or a DuckDB file's table.

Names from the spec are quoted by the database's dialect, never pasted into SQL as they are;
values (a customer id) travel as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError
from tierwise.i18n import _
from tierwise.spec.models import SourceSpec
from tierwise.spec.names import table_name_problem, table_parts

if TYPE_CHECKING:
    import pyarrow as pa


def existing_file(base: Path, spec: SourceSpec, name: str) -> Path:
    """The source's file under the project folder ``base``; a DataError when it is missing."""
    path = base / str(spec.path)
    if not path.exists():
        raise DataError(
            _("source {name}: file {path} does not exist; fix `sources.{source}.path` (relative "
              "paths start at the project folder)").format(name=repr(name), path=path, source=name)
        )
    return path


@dataclass(frozen=True)
class RowFilter:
    """Only one customer's rows of a database source, newest first, at most ``limit`` of them.

    ``column`` and ``time`` are the database's column names; ``value`` travels as a bound
    parameter, never as SQL text.
    """

    column: str
    value: str
    time: str | None
    limit: int


def read_database(name: str, spec: SourceSpec, base: Path, only: RowFilter | None = None
                  ) -> pa.Table:
    """A DuckDB file table or a SQLAlchemy URL's table/query as Arrow (``only``: a few rows).

    A ``table:`` (``name`` or ``schema.name``) is quoted part by part by the engine's dialect,
    never pasted into SQL text as it is.
    """
    import pyarrow as pa

    schema, table = None, ""
    if spec.table is not None and not spec.query:
        # The spec validated the name; a model built without validation is checked here too.
        problem = table_name_problem(spec.table)
        if problem is not None:
            raise DataError(_("source {name}: {problem} (`sources.{source}.table`)").format(
                name=repr(name), problem=problem, source=name))
        schema, table = table_parts(spec.table)
    if spec.resolved_format() == "duckdb":
        import duckdb

        from tierwise.engine import quote_table

        path = existing_file(base, spec, name)
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                sql = spec.query or f"SELECT * FROM {quote_table(table, schema=schema)}"
                if only is None:
                    return con.sql(sql).to_arrow_table()
                return con.execute(_filtered_sql(sql, only), [only.value]).to_arrow_table()
        except duckdb.Error as exc:
            raise DataError(_("source {name}: reading {file} failed: {detail}").format(
                name=repr(name), file=path.name, detail=exc)) from None
    import sqlalchemy as sa

    url = str(spec.url)
    safe = safe_url(url)
    try:
        engine = sa.create_engine(url)
    except ImportError as exc:  # the URL's driver is not installed
        raise DataError(
            _("source {name}: the database driver for {url} is not installed ({detail}); "
              "install it, e.g. `pip install 'tierwise[postgres]'` for PostgreSQL").format(
                  name=repr(name), url=safe, detail=exc)
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise DataError(
            _("source {name}: {url} is not a usable database URL: {detail}; fix "
              "`sources.{source}.url`").format(name=repr(name), url=safe,
                                               detail=_first_line(exc, url), source=name)
        ) from None
    stmt = (
        sa.text(spec.query)
        if spec.query
        # The dialect's identifier preparer quotes each part where it needs quoting.
        else sa.select(sa.text("*")).select_from(sa.table(table, schema=schema))
    )
    if only is not None:
        stmt = _narrowed(stmt, only)
    what = _("the query") if spec.query else _("table {table}").format(table=repr(spec.table))
    try:
        with engine.connect() as con:
            result = con.execute(stmt)
            names = list(result.keys())
            rows = result.fetchall()
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        fix = f"`sources.{name}.query`" if spec.query else f"`sources.{name}.table`"
        raise DataError(
            _("source {name}: reading {what} from {url} failed: {kind}: {detail}; check {fix} "
              "and `sources.{source}.url`").format(
                  name=repr(name), what=what, url=safe, kind=exc.__class__.__name__,
                  detail=_first_line(exc, url), fix=fix, source=name)
        ) from None
    finally:
        engine.dispose()
    declared = {col.from_ or n: col.type for n, col in spec.columns.items()}
    if spec.time is not None:
        declared.setdefault(spec.time, "timestamp")
    return pa.table({col: _arrow_column([row[i] for row in rows], declared.get(col))
                     for i, col in enumerate(names)})


_ARROW_TYPES = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "decimal": "float64",
    "date": "date32",
    "timestamp": "timestamp[us]",
    "bool": "bool",
}


def _narrowed(stmt: Any, only: RowFilter) -> Any:
    """``stmt`` (a table's select or a query's text) narrowed as ``only`` says, in SQLAlchemy."""
    import sqlalchemy as sa

    inner = (stmt.columns() if isinstance(stmt, sa.TextClause) else stmt).subquery("tw_q")
    narrowed = (sa.select(sa.text("*")).select_from(inner)
                .where(sa.column(only.column) == only.value).limit(only.limit))
    return narrowed.order_by(sa.column(only.time).desc()) if only.time else narrowed


def _filtered_sql(sql: str, only: RowFilter) -> str:
    """``sql`` narrowed to one customer (the ``?`` parameter), newest first, ``limit`` rows."""
    from tierwise.engine import quote_identifier

    order = f" ORDER BY {quote_identifier(only.time)} DESC" if only.time else ""
    return (f"SELECT * FROM ({sql}) AS tw_q WHERE {quote_identifier(only.column)} = ?"
            f"{order} LIMIT {int(only.limit)}")


def _arrow_column(values: list[Any], declared: str | None = None) -> pa.Array:
    """A database column as Arrow; columns of mixed types (SQLite allows them) become text.

    A column without a value (a query that returned no rows, or only nulls) has no type to
    infer: it takes its declared type (the time column: timestamp), else text, so the empty
    table has the columns and types the checks and indicators expect.
    """
    import pyarrow as pa

    if all(v is None for v in values):
        return pa.nulls(len(values), pa.type_for_alias(_ARROW_TYPES[declared or "string"]))
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # As text, the declared type is applied by try_cast and the checks report each bad value.
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def safe_url(url: str) -> str:
    """A database URL fit for messages: the password replaced by ``***``."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the database URL"


def _first_line(exc: BaseException, url: str) -> str:
    import sqlalchemy as sa

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    try:
        password = sa.engine.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    # Drivers may echo the connection string back; never show the password.
    return text.replace(str(password), "***") if password else text
