"""Per-customer state kept between runs, so a re-grade reads the new events only.

With ``incremental: true`` in ``tierwise.yaml``, a run keeps, per event source, the state columns
of its indicators (:mod:`tierwise.indicators.increments`) in ``<output>/.state/``, with a
manifest naming the as-of date, each file the state was made from (path, size, modification time
and a digest of its last 64 KiB, where a Parquet file keeps its footer) and a fingerprint of every
definition. The next run as of the same or a later date uses the state only when everything still
matches, and then reads the state, the files that are new since, and the rows of the old files
that entered or left a window. Anything else rebuilds the state from every file, and the run says
why: a file changed or removed, an event in a new file dated on or before the state's date, a
changed definition of the source or an indicator, a new indicator, or events the state's files
held after its date. The grades are the same either way; only the time differs.

A source is kept as state when it is a Parquet file or a folder of Parquet files (a folder is
what lets a daily export add a file), the engine is DuckDB, and every indicator it feeds can be
brought forward (:func:`~tierwise.indicators.increments.unsupported` says why not otherwise).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise import expr
from tierwise.errors import DataError
from tierwise.i18n import _, ngettext, use
from tierwise.indicators import increments
from tierwise.services import reading
from tierwise.services.project import Project
from tierwise.sources.checks import check_and_build
from tierwise.sources.database import existing_file
from tierwise.sources.read import FILE, LoadedSource, load_source, parquet_files
from tierwise.spec.columns import CUSTOMER

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.services.features import FeaturePlan, Features

MANIFEST = "manifest.json"
_TAIL = 64 * 1024


@dataclass
class Decision:
    """How one event source's indicators are computed in this run.

    ``mode``: ``update`` (from the state), ``build`` (from every file, then kept) or ``cold``
    (from every file, not kept). ``reason`` says why an existing state was not used, in the
    language current when it is called.
    """

    source: str
    mode: str
    members: list[str]
    files: list[Path] = field(default_factory=list)
    new: list[Path] = field(default_factory=list)
    #: The files' stamps, taken once before any is read: they are checked against the state's
    #: and recorded with the new one, and a file that changes before the state is written
    #: fails the run (it read a file in the middle of being replaced).
    stamps: list[dict[str, Any]] = field(default_factory=list)
    #: The types of the source's columns as read from these files: part of the fingerprint, as
    #: a column read as a double where it was an integer changes the unit of the kept sums.
    schema: dict[str, str] = field(default_factory=dict)
    entry: dict[str, Any] | None = None
    reason: Callable[[], str] | None = None

    def describe(self) -> str:
        """One line for the run's log, in the reader's language."""
        if self.mode == "update":
            assert self.entry is not None
            files = ngettext("{n} new file", "{n} new files", len(self.new)).format(
                n=len(self.new))
            return _("{source}: brought forward from the state of {day} ({files})").format(
                source=self.source, day=self.entry["as_of"], files=files)
        why = self.reason() if self.reason is not None else ""
        if self.mode == "build":
            return _("{source}: state rebuilt from every file ({reason})").format(
                source=self.source, reason=why)
        return _("{source}: read in full ({reason})").format(source=self.source, reason=why)


#: The schema entry naming the linkage version a linked system's state was kept under.
LINKAGE = "(linkage version)"


def state_dir(project: Project) -> Path:
    """Where the project's state lives."""
    return project.root / project.spec.output / ".state"


class _Mismatch(Exception):
    """The rows read from a state and new files are not the rows the files hold."""

    def __init__(self, source: str, seen: int, expected: int) -> None:
        super().__init__(source)
        self.source, self.seen, self.expected = source, seen, expected


def prepare(project: Project, engine: Engine, plan: FeaturePlan, *, as_of: date) -> Features:
    """The feature table of ``plan`` as of ``as_of``, from kept state where it still holds.

    Before a state is written, the rows it stands for are counted against the files' own row
    counts (their Parquet footers); a difference rebuilds that source from every file.
    """
    rebuild: dict[str, Callable[[], str]] = {}
    while True:
        try:
            return _prepare(project, engine, plan, as_of=as_of, rebuild=rebuild)
        except _Mismatch as exc:
            if exc.source in rebuild:  # rebuilt from every file and still off: a bug, not data
                raise
            rebuild[exc.source] = _counted(exc.seen, exc.expected)


def _counted(seen: int, expected: int) -> Callable[[], str]:
    def why() -> str:
        return _("{seen} rows read where the files hold {expected}").format(
            seen=seen, expected=expected)

    return why


def _prepare(project: Project, engine: Engine, plan: FeaturePlan, *, as_of: date,
             rebuild: dict[str, Callable[[], str]]) -> Features:
    from tierwise.services.features import Features

    manifest = _read_manifest(project)
    decisions = {s: _decide(project, engine, plan, s, manifest, as_of=as_of)
                 for s in plan.members}
    for source, why in rebuild.items():
        before = decisions[source]
        decisions[source] = Decision(source, "build", before.members, before.files,
                                     reason=why, stamps=before.stamps, schema=before.schema)
    plan.kept = {s: d.members for s, d in decisions.items() if d.mode != "cold"}
    loaded: dict[str, LoadedSource] = {}
    loaded["customers"] = reading.read(project, "customers", engine)
    for name, decision in decisions.items():
        if decision.mode == "cold":
            loaded[name] = reading.read(project, name, engine)
        else:
            pending = None
            if decision.mode == "update":  # the rows not in the state: the new files'
                new = sorted(str(p) for p in decision.new)
                pending = lambda t, new=new: t.filter(t[FILE].isin(new))  # noqa: E731
            loaded[name] = reading.read(project, name, engine, files=decision.files,
                                        rows=pending)
    plan.know(loaded)
    extend = {s: _extender(project, engine, plan, d, as_of=as_of)
              for s, d in decisions.items() if d.mode == "update"}
    prefixes: dict[str, str] = {}

    def build(tables: dict[str, ir.Table], grouped: dict[str, ir.Table], outer: bool
              ) -> ir.Table:
        return plan.features(tables, grouped, day=as_of, outer=outer)

    def remember(name: str, hook: Any) -> Any:
        def extended(g: ir.Table, prefix: str) -> ir.Table:
            prefixes[name] = prefix
            return hook(g, prefix) if hook is not None else g
        return extended

    hooks = {s: remember(s, extend.get(s)) for s in decisions if decisions[s].mode != "cold"}

    def keep(wide: ir.Table) -> None:
        kept = {s: d for s, d in decisions.items() if d.mode != "cold"}
        totals = _totals(engine, wide, {s: prefixes[s] for s in kept})
        for name, decision in kept.items():
            expected = sum(_rows_in(p) for p in (
                decision.new if decision.mode == "update" else decision.files))
            if decision.mode == "update":
                assert decision.entry is not None
                expected += int(decision.entry.get("rows", -1))
            if totals[name][0] != expected:
                raise _Mismatch(name, totals[name][0], expected)
        _write(project, engine, wide, kept, prefixes, totals, as_of=as_of)

    _, table, quality = check_and_build(loaded, engine, as_of=as_of,
                                        metrics=plan.metric_builders(), build=build,
                                        extend=hooks, checked=keep)
    quality.state.update({s: d.describe() for s, d in decisions.items()})
    with use("en"):  # run.json is read by tools: one language
        quality.state_record.update({s: d.describe() for s, d in decisions.items()})
    return Features(table, quality, held=True)


def _decide(project: Project, engine: Engine, plan: FeaturePlan, source: str,
            manifest: dict[str, Any], *, as_of: date) -> Decision:
    spec = project.spec
    wanted = plan.members[source]
    reason = _cold_reason(project, engine, source, wanted)
    if reason is not None:
        return Decision(source, "cold", wanted, reason=reason)
    files = parquet_files(existing_file(project.root, spec.sources[source], source))
    stamps = [_stamp(project, p) for p in files]  # once, before anything is read
    typed = reading.read(project, source, engine, files=files, facts=False).typed
    schema = {c: str(t) for c, t in typed.schema().items()}
    if spec.linkage is not None and spec.linkage.system_of(source) is not None:
        # Another linkage version maps the ids to other customers: the state is rebuilt.
        schema[LINKAGE] = reading.linked_version(project) or ""
    entry = _entry(manifest, source)
    if entry is None:
        why = (lambda: _("no state yet")) if source not in manifest.get("sources", {}) else (
            lambda: _("the kept state is unreadable or from another version"))
        return Decision(source, "build", wanted, files, reason=why, stamps=stamps,
                        schema=schema)
    now = increments.definition(spec, source, [m for m in entry["members"]
                                               if m in spec.indicators], schema=schema)
    held = [m for m in entry["members"] if now.get(m) == entry["definition"].get(m)]
    members = sorted(set(wanted) | {m for m in held if not increments.unsupported(spec, m)})
    day = date.fromisoformat(entry["as_of"])
    reason = _why_rebuild(project, entry, now, wanted, held, stamps)
    if LINKAGE in schema and entry.get("linkage") != schema[LINKAGE]:
        old_version, new_version = entry.get("linkage") or "-", schema[LINKAGE]
        reason = lambda: _(  # noqa: E731
            "the customers were linked anew (linkage {old} is now {new})").format(
            old=old_version, new=new_version)
    if reason is None and day > as_of:
        return Decision(source, "cold", wanted, reason=lambda: _(
            "the state is of a later date, {day}").format(day=day))
    if reason is not None:
        return Decision(source, "build", members, files, reason=reason, stamps=stamps,
                        schema=schema)
    old = {f["path"] for f in entry["files"]}
    new = [p for p in files if _relative(project, p) not in old]
    late = _dated_before(project, engine, source, new, day) if new else 0
    if late:
        return Decision(source, "build", members, files, reason=lambda: ngettext(
            "{count} event in new files is dated on or before {day}, the state's date",
            "{count} events in new files are dated on or before {day}, the state's date", late,
        ).format(count=late, day=day), stamps=stamps, schema=schema)
    return Decision(source, "update", members, files, new, entry=entry, stamps=stamps,
                    schema=schema)


def _cold_reason(project: Project, engine: Engine, source: str, wanted: list[str]
                 ) -> Callable[[], str] | None:
    """Why ``source`` is read in full with no state kept, or None when state can be kept."""
    spec = project.spec
    source_spec = spec.sources[source]
    if engine.kind != "duckdb":
        return lambda: _("state is kept on DuckDB only")
    if source_spec.resolved_format() != "parquet":
        return lambda: _("state is kept for Parquet files only; export a folder of Parquet "
                         "files")
    if source_spec.refunds and "days_since" in expr.functions(expr.parse(source_spec.refunds)):
        return lambda: _("its `refunds` condition counts days to the as-of date")

    def problems() -> str:
        return "; ".join(p for p in (increments.unsupported(spec, m) for m in wanted) if p)

    return problems if problems() else None


def _entry(manifest: dict[str, Any], source: str) -> dict[str, Any] | None:
    """The manifest's entry for ``source`` when it is whole and of this format, else None."""
    entry = manifest.get("sources", {}).get(source) if isinstance(
        manifest.get("sources"), dict) else None
    if not isinstance(entry, dict) or entry.get("format") != increments.STATE_FORMAT:
        return None
    try:
        date.fromisoformat(entry["as_of"])
        ok = (isinstance(entry["file"], str) and isinstance(entry["members"], list)
              and isinstance(entry["definition"], dict) and isinstance(entry["files"], list)
              and all(isinstance(f, dict) and "path" in f for f in entry["files"])
              and isinstance(entry["rows"], int) and isinstance(entry["keys"], int))
    except (KeyError, TypeError, ValueError):
        return None
    return entry if ok else None


def _why_rebuild(project: Project, entry: dict[str, Any], now: dict[str, str],
                 wanted: list[str], held: list[str], stamps: list[dict[str, Any]]
                 ) -> Callable[[], str] | None:
    """Why a state cannot be brought forward, or None when it can."""
    if now[""] != entry["definition"].get(""):
        return lambda: _("the source's definition changed")
    changed = [m for m in wanted if m in entry["members"] and m not in held]
    if changed:
        return lambda: _("indicator {name} changed").format(name=changed[0])
    missing = [m for m in wanted if m not in entry["members"]]
    if missing:
        return lambda: _("indicator {name} is not in the state").format(name=missing[0])
    if entry.get("ignored"):
        return lambda: _("its files held events after {day}").format(day=entry["as_of"])
    if _keys_in(state_dir(project) / entry["file"]) != entry["keys"]:
        return lambda: _("the state file is missing or damaged")
    present = {s["path"]: s for s in stamps}
    for stamp in entry["files"]:
        seen = present.get(stamp["path"])
        if seen is None:
            gone = stamp["path"]
            return lambda: _("file {path} was removed").format(path=gone)
        if seen != stamp:
            changed_file = stamp["path"]
            return lambda: _("file {path} changed").format(path=changed_file)
    return None


def _keys_in(path: Path) -> int | None:
    """The rows of a state file by its footer; None when it is missing or unreadable."""
    try:
        return _rows_in(path)
    except (OSError, ValueError):
        return None


def _dated_before(project: Project, engine: Engine, source: str, new: list[Path], day: date
                  ) -> int:
    """How many rows of the ``new`` files are dated on or before ``day``."""
    from tierwise.indicators.features import _within

    spec = project.spec.sources[source]
    assert spec.time is not None
    rows = load_source(source, spec, engine, base=project.root, files=new).typed
    return int(engine.execute(rows.count(where=_within(rows[spec.time], None, day))))


def _extender(project: Project, engine: Engine, plan: FeaturePlan, decision: Decision, *,
              as_of: date) -> Any:
    """The hook adding the kept state and the moving rows to the pending rows' aggregate."""
    import ibis

    from tierwise.indicators.features import _within

    assert decision.entry is not None
    spec = project.spec
    source = decision.source
    members = decision.members
    before = date.fromisoformat(decision.entry["as_of"])
    cols = increments.columns(spec, members)
    state = engine.read_parquet(f"{source}_state", state_dir(project) / decision.entry["file"])
    state = state.select(_k1=state._key, _rows1=state.__rows,
                         **{f"{c}__1": state[c] for c in cols})
    ranges = increments.moving_ranges(spec, members, before=before, after=as_of)
    if ranges:
        new = {str(p) for p in decision.new}
        old_files = [p for p in decision.files if str(p) not in new]
        old = reading.read(project, source, engine, files=old_files).typed
        time_column = spec.sources[source].time
        assert time_column is not None
        inside = ibis.or_(*(_within(old[time_column], lo, hi) for lo, hi in ranges))
        old = old.filter(inside)
        moving = old.group_by(_k2=old[spec.sources[source].id]).aggregate(
            **increments.moving_metrics(spec, old, members, before=before, after=as_of))
        moving = moving.select("_k2", **{f"{c}__2": moving[c] for c in moving.columns
                                         if c != "_k2"})
        state = state.left_join(moving, state._k1 == moving._k2).drop("_k2")

    def extend(g: ir.Table, prefix: str) -> ir.Table:
        j = g.outer_join(state, g._key == state._k1)
        parts_of = [{c: j[c] for c in cols if c in g.columns},
                    {c: j[f"{c}__1"] for c in cols},
                    {c: j[f"{c}__2"] for c in cols if f"{c}__2" in j.columns}]
        checks = {c: j[c].fill_null(0) for c in g.columns
                  if c.startswith(prefix) and c != f"{prefix}rows"}
        return j.select(
            _key=ibis.coalesce(j._key, j._k1),
            **{f"{prefix}rows": j[f"{prefix}rows"].fill_null(0) + j._rows1.fill_null(0)},
            **checks,
            **increments.combined(spec, members, parts_of),
        )

    return extend


def _totals(engine: Engine, wide: ir.Table, prefixes: dict[str, str]
            ) -> dict[str, tuple[int, int]]:
    """Per source: its rows, and the rows ignored as after the as-of date."""
    import ibis

    sums: dict[str, Any] = {}
    for name, prefix in prefixes.items():
        sums[f"{name}__rows"] = wide[f"{prefix}rows"].sum()
        infos = [wide[c].sum() for c in wide.columns if c.startswith(f"{prefix}info")]
        sums[f"{name}__ignored"] = sum(infos[1:], infos[0]) if infos else ibis.literal(0)
    row = engine.execute(wide.aggregate(**sums)).iloc[0] if sums else {}
    count = {k: 0 if row[k] is None or row[k] != row[k] else int(row[k]) for k in sums}
    return {n: (count[f"{n}__rows"], count[f"{n}__ignored"]) for n in prefixes}


def _rows_in(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _write(project: Project, engine: Engine, wide: ir.Table, keep: dict[str, Decision],
           prefixes: dict[str, str], totals: dict[str, tuple[int, int]], *, as_of: date) -> None:
    """Write the new state of every source kept as state, then the manifest."""
    if not keep:
        return
    for decision in keep.values():  # a file replaced while it was read: no state from it
        for path, stamp in zip(decision.files, decision.stamps, strict=True):
            if _stamp(project, path) != stamp:
                raise DataError(
                    _("{location}: the file changed while it was being read; run again once it "
                      "is written completely (write it under another name and rename it into "
                      "place to avoid this)").format(location=stamp["path"]))
    folder = state_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        current = _read_manifest(project)
        sources = dict(current.get("sources", {}))
        for name, decision in keep.items():
            before = _entry(current, name)
            if before is not None and date.fromisoformat(before["as_of"]) > as_of:
                continue  # a later state was written meanwhile: keep it
            sources[name] = _write_source(project, engine, wide, decision, prefixes[name],
                                          totals[name][1], folder, as_of=as_of)
        _replace(folder / MANIFEST, {"sources": sources})
        # The previous generation stays until the next write: a run that read the previous
        # manifest a moment ago may still be reading its state files.
        used = {e.get("file") for e in (*sources.values(),
                                        *current.get("sources", {}).values())
                if isinstance(e, dict)}
        for stale in folder.glob("*.parquet"):
            if stale.name not in used:
                stale.unlink(missing_ok=True)


def _write_source(project: Project, engine: Engine, wide: ir.Table, decision: Decision,
                  prefix: str, ignored: int, folder: Path, *, as_of: date) -> dict[str, Any]:
    """Write one source's state file (synced to disk); returns its manifest entry.

    Only customers with rows in the source are kept: one without any gets the indicator's
    default in every run, as in a full run.
    """
    spec = project.spec
    name = decision.source
    cols = increments.columns(spec, decision.members)
    rows = wide[f"{prefix}rows"].fill_null(0)
    kept = wide.filter(wide[CUSTOMER].notnull() & (rows > 0))
    state = kept.select(_key=kept[CUSTOMER], __rows=kept[f"{prefix}rows"],
                        **{c: kept[c] for c in cols})
    counted = engine.execute(state.aggregate(rows=state.__rows.sum(), keys=state.count()))
    file = f"{name}.{uuid.uuid4().hex[:12]}.parquet"
    engine.write_parquet(state, folder / file)
    _sync(folder / file)
    return {
        "format": increments.STATE_FORMAT,
        "as_of": as_of.isoformat(),
        "file": file,
        "members": decision.members,
        "definition": increments.definition(spec, name, decision.members,
                                            schema=decision.schema),
        "files": decision.stamps,
        # The rows the state stands for: rows without a customer id never reach it.
        "rows": int(counted["rows"].iloc[0] or 0),
        "keys": int(counted["keys"].iloc[0]),
        "ignored": ignored,
        "linkage": decision.schema.get(LINKAGE),
    }


def _sync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _read_manifest(project: Project) -> dict[str, Any]:
    path = state_dir(project) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: rebuilt, never trusted
    return data if isinstance(data, dict) else {}


def _replace(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically and durably (synced, then renamed)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=1, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _relative(project: Project, path: Path) -> str:
    try:
        return path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _stamp(project: Project, path: Path) -> dict[str, Any]:
    """What identifies a file's content cheaply: size, modification time and its tail."""
    info = path.stat()
    with open(path, "rb") as handle:
        handle.seek(max(0, info.st_size - _TAIL))
        tail = hashlib.sha256(handle.read()).hexdigest()[:32]
    return {"path": _relative(project, path), "size": info.st_size,
            "mtime_ns": info.st_mtime_ns, "tail": tail}
