"""Read a source into the engine: files and databases in, a raw table and a typed table out.

CSV files are read by pyarrow with every column as text and a ``_row`` column holding the 1-based
data row, so a check can name the exact row of a bad value; declared types are then applied in the
engine with ``try_cast``, which turns an unparseable value into null instead of failing the whole
load (the checks compare raw and typed values to report it). Parquet, DuckDB and database sources
keep their own types and are cast only where the spec asks for another type.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError, EngineError
from tierwise.i18n import _
from tierwise.sources.database import existing_file, read_database, safe_url
from tierwise.sources.facts import ColumnFacts, parquet_facts
from tierwise.spec.models import ColumnSpec, SourceSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from tierwise.engine import Engine

ROW = "_row"
#: The column naming each row's file when a source is read file by file (``load_source(files=)``).
FILE = "__tw_file"
_IBIS_TYPES = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "decimal": "float64",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
}
_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class LoadedSource:
    """One source in the engine.

    Attributes:
        name: the source's name in the project.
        spec: its spec.
        location: the file or table it came from, for messages.
        raw: the table as read, columns renamed to their declared names, values uncast.
        typed: the same rows with declared types applied (unparseable values are null).
        encoding: the text encoding used to read a CSV file, if any.
        facts: what the Parquet files' footers prove about the typed columns that hold the
            stored values unchanged (see :mod:`tierwise.sources.facts`).
        stamp: each file's (path, name in messages, size, modification time) when the facts
            were read.
        system: the linked system whose ids the rows carried, mapped to linked customers
            (:mod:`tierwise.sources.linked`); None for a source read as it is.

    """

    name: str
    spec: SourceSpec
    location: str
    raw: ir.Table
    typed: ir.Table
    encoding: str | None = None
    facts: Mapping[str, ColumnFacts] = field(default_factory=dict)
    stamp: tuple[tuple[Path, str, int, int], ...] | None = None
    system: str | None = None

    def check_facts_hold(self) -> None:
        """Fail when a file changed after its footer was read: its facts may not hold.

        Called once the rows were scanned, so a file replaced in between (an export landing
        during the run) is not graded with checks skipped on the old file's statistics.

        Raises:
            DataError: naming the file, when its size or modification time changed.

        """
        for path, where, size, mtime in self.stamp or ():
            try:
                now = path.stat()
            except OSError:
                now = None
            if now is None or (now.st_size, now.st_mtime_ns) != (size, mtime):
                raise DataError(
                    _("{location}: the file changed while it was being read; run again once "
                      "it is written completely (write it under another name and rename it "
                      "into place to avoid this)").format(location=where)
                )


def load_source(name: str, spec: SourceSpec, engine: Engine, *, base: Path,
                files: list[Path] | None = None,
                rows: Callable[[ir.Table], ir.Table] | None = None,
                facts: bool = True) -> LoadedSource:
    """Read one source into ``engine``.

    Args:
        name: the source's name in the project.
        spec: its spec.
        engine: the engine to read into.
        base: the project folder, where relative paths start.
        files: read these Parquet files of the source (its folder's files) instead of its
            ``path``.
        rows: which rows of the files to keep, by the column :data:`FILE` naming each row's
            file (given ``files``), before the columns are renamed and typed.
        facts: read what the Parquet footers prove (False when the caller needs the schema
            only: a footer costs about 0.3 ms, thousands of files a second).

    Raises:
        DataError: when the file is missing, unreadable, in another encoding, or lacks a declared
            column; the message names the file, the problem and the fix.

    """
    fmt = spec.resolved_format()
    encoding = None
    proven: dict[str, ColumnFacts] = {}
    stamp = None
    if fmt == "csv":
        path = existing_file(base, spec, name)
        if path.is_dir():
            raise DataError(_("source {name}: {path} is a folder; a folder is read as Parquet "
                              "files: add `format: parquet` to `sources.{source}`").format(
                                  name=repr(name), path=path, source=name))
        encoding = detect_encoding(path, spec.encoding)
        table = engine.register_arrow(name, _read_csv(path, spec, encoding))
        location = path.name
    elif fmt == "parquet":
        path = existing_file(base, spec, name)
        location = path.name
        try:
            if files is None and path.is_dir():
                files = parquet_files(path)
                if not files:
                    raise DataError(_(
                        "source {name}: folder {path} holds no .parquet file; export the data "
                        "there, or fix `sources.{source}.path`").format(
                            name=repr(name), path=path, source=name))
            if files is not None:
                table = engine.read_parquet(name, [str(f) for f in files],
                                            file_column=FILE if rows is not None else None)
            else:
                table = engine.read_parquet(name, path)
            read = (files if files is not None else [path]) if facts else []
            before = [(f, f.stat()) for f in read]
            proven = parquet_facts(read, {n: c.from_ or n for n, c in spec.columns.items()})
            stamp = tuple((f, _shown(f, path, location), st.st_size, st.st_mtime_ns)
                          for f, st in before)
        except (EngineError, OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise DataError(
                _("source {name}: {file} is not a readable Parquet file ({detail}); export it "
                  "again, or fix `sources.{source}.path` (and `format:`)").format(
                      name=repr(name), file=path.name, detail=_first(exc), source=name)
            ) from None
    else:
        table = engine.register_arrow(name, read_database(name, spec, base))
        where = spec.path if fmt == "duckdb" else safe_url(str(spec.url))
        location = f"{where}:{spec.table}" if spec.table else f"{where} (query of {name!r})"
    if rows is not None:
        table = rows(table)
    if FILE in table.columns:
        table = table.drop(FILE)
    raw = _rename(table, spec, location)
    typed = _typed(raw, spec)
    _check_keys(typed, spec, name, location)
    # A fact about the stored column holds for the typed one only where no cast came between.
    proven = {n: f for n, f in proven.items() if _stored(raw[n], spec.columns[n], fmt)}
    return LoadedSource(name, spec, location, raw, typed, encoding, proven,
                        stamp if proven else None)


def _shown(file: Path, path: Path, location: str) -> str:
    """``file`` as messages name it: a folder's file from the folder down (at any depth)."""
    if file == path:
        return location
    folder = Path(os.path.normpath(path))
    if not file.is_relative_to(folder):
        return f"{location}/{file.name}"
    return f"{location}/{file.relative_to(folder).as_posix()}"


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files a source reads: the file, or a folder's ``*.parquet`` files.

    A folder's files are taken at any depth, sorted, leaving out names starting with ``.`` or
    ``_`` (a file being written under a temporary name, a writer's ``_SUCCESS`` marker); paths
    are normalised (``a/../b`` is ``b``), as DuckDB names the file of each row. Every read of a
    folder (full or from kept state) reads exactly these files.
    """
    path = Path(os.path.normpath(path))
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.parquet")
                  if p.is_file() and not any(part.startswith((".", "_"))
                                             for part in p.relative_to(path).parts))


def _check_keys(typed: ir.Table, spec: SourceSpec, name: str, location: str) -> None:
    """Fail when the id or time column is missing, or the time column holds no dates.

    Declared columns were checked by name already; a source without ``columns:`` keeps what
    the file or database gives, e.g. dates stored as text in SQLite.
    """
    have = [c for c in typed.columns if c != ROW and not c.startswith("__raw_")]
    for role, column in (("id", spec.id), ("time", spec.time)):
        if column is not None and column not in typed.columns:
            close = difflib.get_close_matches(column, have, n=1)
            hint = _(" (did you mean {name}?)").format(name=repr(close[0])) if close else ""
            raise DataError(
                _("{location}: no column {column}{hint}, which `sources.{source}.{role}` names; "
                  "the columns there are {columns}").format(
                      location=location, column=repr(column), hint=hint, source=name, role=role,
                      columns=_(", ").join(have) or _("none"))
            )
    if spec.time is None:
        return
    kind = typed[spec.time].type()
    if not (kind.is_date() or kind.is_timestamp()):
        declared = spec.columns.get(spec.time)
        fix = (
            _("set `sources.{source}.columns.{column}.type` to date or timestamp").format(
                source=name, column=spec.time)
            if declared is not None
            else _("declare it: `sources.{source}.columns: {example}` (or timestamp), with the "
                   "source's other columns").format(
                       source=name, example=f"{{{spec.time}: {{type: date}}}}")
        )
        raise DataError(
            _("{location}: the time column {column} holds {kind} values, not dates; {fix}").format(
                location=location, column=repr(spec.time), kind=kind, fix=fix)
        )


def detect_encoding(path: Path, declared: str = "auto") -> str:
    """The text encoding of a CSV file: ``declared`` unless it is ``auto``.

    ``auto`` accepts UTF-8 (with or without BOM), UTF-16 with BOM, and GBK/GB18030, the usual
    encoding of Chinese spreadsheet exports.

    Raises:
        DataError: when the declared encoding is unknown or the file matches none of them.

    """
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if declared != "auto":
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise DataError(
                _("{file}: unknown encoding {encoding}; use utf-8, utf-8-sig, gbk, gb18030 or "
                  "another Python codec name").format(file=path.name, encoding=repr(declared))
            ) from None
        # Excel writes a byte-order mark; read as plain utf-8 it would stick to the first column name.
        return "utf-8-sig" if name == "utf-8" and head.startswith(codecs.BOM_UTF8) else declared
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    first_error: UnicodeDecodeError | None = None
    for candidate in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the end of the sample: decode incrementally.
            codecs.getincrementaldecoder(candidate)().decode(head, final=False)
            return candidate
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    start = first_error.start
    line = head.count(b"\n", 0, start) + 1
    raise DataError(
        _("{file} line {line}: the text is neither UTF-8 nor GBK (bytes {bytes} at offset "
          "{offset}); set `encoding:` on the source to the file's encoding (e.g. latin-1, big5) "
          "or re-save the file as UTF-8").format(file=path.name, line=line,
                                                 bytes=repr(head[start : start + 4]), offset=start)
    )


def _read_csv(path: Path, spec: SourceSpec, encoding: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        with path.open(encoding=encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=spec.delimiter), None)
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding, exc) from None
    if not header:
        raise DataError(
            _("{file}: the file is empty (no header row); export it again with a header naming "
              "the columns").format(file=path.name)
        )
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise DataError(
            _("{file}: header repeats column(s) {columns}; give every column a distinct "
              "name").format(file=path.name, columns=_(", ").join(dupes))
        )
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding, exc) from None
    except pa.ArrowInvalid as exc:
        raise DataError(
            _("{file}: cannot parse the CSV ({detail}); check the delimiter (now {delimiter}, "
              "set `delimiter:`) and quoting").format(file=path.name, detail=exc,
                                                     delimiter=repr(spec.delimiter))
        ) from None
    return table.append_column(ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))


def _encoding_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> DataError:
    return DataError(
        _("{file}: bytes at offset {offset} are not valid {encoding} ({bytes}); set `encoding:` "
          "on the source (Chinese exports are often gbk) or re-save the file as UTF-8").format(
              file=path.name, offset=exc.start, encoding=encoding,
              bytes=repr(exc.object[exc.start : exc.start + 4]))
    )


def _first(exc: BaseException) -> str:
    """The first line of an error, without the engine's SQL context."""
    from tierwise.engine import driver_message

    return driver_message(exc).splitlines()[0]


def _rename(table: ir.Table, spec: SourceSpec, location: str) -> ir.Table:
    if not spec.columns:
        return table
    missing = {
        name: col.from_ or name
        for name, col in spec.columns.items()
        if (col.from_ or name) not in table.columns
    }
    if missing:
        have = [c for c in table.columns if c != ROW]
        parts = []
        for name, wanted in missing.items():
            close = difflib.get_close_matches(wanted, have, n=1)
            hint = _(" (did you mean {name}? set `from: {column}`)").format(
                name=repr(close[0]), column=close[0]) if close else ""
            parts.append(_("{column} for {name}{hint}").format(column=repr(wanted), name=name,
                                                               hint=hint))
        raise DataError(
            _("{location}: missing column(s) {parts}; the columns there are {columns}").format(
                location=location, parts="; ".join(parts), columns=_(", ").join(have))
        )
    keep = {name: table[col.from_ or name] for name, col in spec.columns.items()}
    if ROW in table.columns:
        keep = {ROW: table[ROW], **keep}
    return table.select(**keep)


def _typed(raw: ir.Table, spec: SourceSpec) -> ir.Table:
    if not spec.columns:
        return raw
    out: dict[str, Any] = {ROW: raw[ROW]} if ROW in raw.columns else {}
    given: dict[str, Any] = {}
    for name, col in spec.columns.items():
        value = raw[name]
        if _stored(value, col, spec.resolved_format()):
            out[name] = value
            continue
        out[name] = cast_column(value, col, decimal=spec.decimal)
        if raw[name].type().is_string() and col.type != "string":
            # Keep the text as given, so checks can show it beside the failed cast.
            given[raw_name(name)] = raw[name].strip().nullif("")
    return raw.select(**out, **given)


def typed_table(raw: ir.Table, spec: SourceSpec, location: str) -> ir.Table:
    """``raw`` (a source as read) with its declared columns renamed and typed, as runs read it.

    Raises:
        DataError: a declared column is missing; the message names ``location``.
    """
    return strip_raw(_typed(_rename(raw, spec, location), spec))


def _stored(value: ir.Value, col: ColumnSpec, fmt: str) -> bool:
    """True when the typed column is ``value`` as stored, with no cast or trim."""
    if value.type().is_string():
        # Text files carry stray blanks ("C001 ", " 12.5"); typed sources (Parquet, databases)
        # hold their strings as stored, and trimming every id of a large table costs a second
        # scan's time.
        return col.type == "string" and fmt != "csv"
    return str(value.type()).startswith(_IBIS_TYPES[col.type])


def raw_name(column: str) -> str:
    """Name of the column holding ``column``'s text as given in the file."""
    return f"__raw_{column}"


def customer_rows(name: str, spec: SourceSpec, engine: Engine, *, base: Path) -> ir.Table:
    """The typed rows of the customers source ``name``, one per customer.

    The first row of a repeated id is kept; the id as text is in ``_aid`` beside every column.

    Raises:
        DataError: the source cannot be read, or it lacks its id column.
    """
    typed = strip_raw(load_source(name, spec, engine, base=base).typed)
    if spec.id not in typed.columns:
        raise DataError(_("the customers source has no column {column}; set `id:` to the "
                          "column holding the customer id").format(column=repr(spec.id)))
    rows = typed.mutate(_aid=typed[spec.id].cast("string"))
    return rows.distinct(on="_aid", keep="first")


def strip_raw(table: ir.Table) -> ir.Table:
    """``table`` without the row-number and raw-text columns the checks use."""
    helpers = [c for c in table.columns if c == ROW or c.startswith("__raw_")]
    return table.drop(*helpers) if helpers else table


def cast_column(value: ir.Value, col: ColumnSpec, *, decimal: str = ".") -> ir.Value:
    """Cast one raw column to its declared type; values that do not parse become null."""
    import ibis

    target = _IBIS_TYPES[col.type]
    if not value.type().is_string():
        return value if str(value.type()).startswith(target) else value.try_cast(target)
    text = value.strip().nullif("")
    if col.type == "string":
        return text
    if col.type in ("int", "float", "decimal") and decimal == ",":
        # A dot is then a thousands separator, valid only between groups of three digits:
        # "1.234,5" is 1234.5, but "12.5" is a mistake, not 125.
        comma_number = text.re_search(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$")
        text = ibis.ifelse(
            comma_number, text.replace(".", "").replace(",", "."), ibis.null("string")
        )
    if col.type in ("date", "timestamp") and col.format:
        pattern = _format_regex(col.format)
        parsed = text.as_date(col.format) if col.type == "date" else text.as_timestamp(col.format)
        # strptime fails the whole query on one bad value: parse only the values that look right.
        return ibis.ifelse(text.re_search(pattern), parsed, ibis.null(target))
    if col.type == "bool":
        low = text.lower()
        return low.cases(
            *((word, True) for word in ("true", "1", "yes", "y")),
            *((word, False) for word in ("false", "0", "no", "n")),
            else_=ibis.null("boolean"),
        )
    if col.type == "int":
        # "12.0" is an integer to a spreadsheet; "12.5" is not.
        as_float = text.try_cast("float64")
        whole = ibis.ifelse(
            as_float == as_float.floor(), as_float.cast("int64"), ibis.null("int64")
        )
        # Plain digits are cast directly: through float64, integers beyond 2**53 would round.
        # (Not everything directly: DuckDB casts "12.5" to the integer 13.)
        return ibis.ifelse(text.re_search(r"^[+-]?\d+$"), text.try_cast("int64"), whole)
    value = text.try_cast(target)
    if col.type in ("float", "decimal"):
        # "NaN" and "inf" parse as doubles but are no amount: unparseable, on every engine (ibis
        # reads a NaN as null on Spark and as a value on DuckDB).
        return ibis.ifelse(value.isnan() | (value.abs() == float("inf")), ibis.null(target), value)
    return value


def _format_regex(fmt: str) -> str:
    parts = {
        "%Y": r"\d{4}",
        "%y": r"\d{2}",
        "%m": r"\d{1,2}",
        "%d": r"\d{1,2}",
        "%H": r"\d{1,2}",
        "%M": r"\d{2}",
        "%S": r"\d{2}",
        "%f": r"\d+",
    }
    out, i = "", 0
    while i < len(fmt):
        token = fmt[i : i + 2]
        if token in parts:
            out += parts[token]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return f"^{out}$"
