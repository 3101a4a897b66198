"""Compare two `tierwise demo` output folders: the same files with the same content, row order aside.

Usage: python scripts/compare_outputs.py BEFORE AFTER

A refactoring must leave every output unchanged. Parquet and CSV files are compared as tables
sorted by all their columns; ``run.json`` as JSON without the facts that change from one demo to
the next by design (the data fingerprint: the generated files' modification times); other text
files byte for byte. Run folders are matched by their path below the demo folder (run ids are
numbered the same way in both). Binary files that embed times (``store.db``, charts) are listed,
not compared. Prints one line per difference and a summary; exits 1 when anything differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

VOLATILE_JSON = {"data_fingerprint", "created_at", "generated_at", "timings"}
SKIPPED = {".db", ".png", ".html"}


def _table(path: Path) -> pa.Table:
    table = pq.read_table(path) if path.suffix == ".parquet" else pcsv.read_csv(path)
    keys = [(name, "ascending") for name in table.column_names
            if not pa.types.is_nested(table.schema.field(name).type)]
    return table.sort_by(keys) if keys else table


def _json(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if k not in VOLATILE_JSON}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _same(a: Path, b: Path) -> str | None:
    """None when equal, else what differs."""
    if a.suffix in (".parquet", ".csv"):
        ta, tb = _table(a), _table(b)
        if ta.schema != tb.schema:
            return f"schema differs:\n  {ta.schema}\n  {tb.schema}"
        return None if ta.equals(tb) else f"{ta.num_rows} vs {tb.num_rows} rows, content differs"
    if a.suffix == ".json":
        ja, jb = (_json(json.loads(p.read_text(encoding="utf-8"))) for p in (a, b))
        return None if ja == jb else "JSON differs"
    return None if a.read_bytes() == b.read_bytes() else "bytes differ"


def main(before: Path, after: Path) -> int:
    files_a = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    files_b = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    problems = [f"only before: {p}" for p in sorted(files_a - files_b)]
    problems += [f"only after: {p}" for p in sorted(files_b - files_a)]
    compared = skipped = 0
    for rel in sorted(files_a & files_b):
        if rel.suffix in SKIPPED:
            skipped += 1
            continue
        compared += 1
        if (why := _same(before / rel, after / rel)) is not None:
            problems.append(f"{rel}: {why}")
    for line in problems:
        print(line)
    print(f"compared {compared} files, skipped {skipped} (store databases, charts, reports); "
          f"{len(problems)} differ")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
