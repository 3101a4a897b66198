"""Where a scheme's history lives on disk: per-run change files and their compacted merge.

Each official run writes ``changes.parquet`` (the customers whose tier changed, sorted by
customer). Every few runs they are merged into ``<output>/<scheme>/history/history-*.parquet``,
listed with the runs it holds in ``history/index.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tierwise.engine import connect
from tierwise.indicators import CUSTOMER
from tierwise.spec.models import EngineSpec
from tierwise.store import Store
from tierwise.store.runs import Run

MERGE_MEMORY = "2GB"

# Runs whose changes are read one file each before they are merged into the compacted file.
COMPACT_AFTER = 8


def _history_dir(runs: list[Run]) -> Path | None:
    """``<output>/<scheme>/history``, beside the runs' folders."""
    folders = [Path(r.folder) for r in runs if r.folder]
    return folders[0].parent.parent / "history" if folders else None


def _compacted(folder: Path | None) -> tuple[Path | None, set[int]]:
    """The current compacted history file and the runs it holds."""
    if folder is None or not (folder / "index.json").exists():
        return None, set()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return folder / index["file"], {int(i) for i in index["runs"]}


def history_files(runs: list[Run]) -> list[str]:
    """The compacted file plus the change files of the history runs it does not hold."""
    merged, covered = _compacted(_history_dir(runs))
    files = [str(merged)] if merged is not None else []
    files += [str(Path(r.folder) / "changes.parquet")
              for r in runs if r.folder and r.id not in covered]
    return files


def compact(store: Store, scheme: str, *, at_least: int = COMPACT_AFTER) -> Path | None:
    """Merge the history's change files into one file sorted by customer, when worth it.

    A lookup reads one row group per file, so one customer's history costs about as many
    footer and row-group reads as there are runs (24 runs at 10M customers took ~35 ms);
    one merged file answers in ~3 ms. The merge runs when ``at_least`` history runs are not in
    the compacted file yet. The new file and its index are written beside the old ones and
    switched by renaming the index, so a reader always sees a whole history; superseded runs'
    rows in an older merge are ignored by readers and dropped by the next merge.
    """
    import uuid

    with store.read() as tx:
        runs = tx.runs.history_runs(scheme)
    folder = _history_dir(runs)
    if folder is None:
        return None
    merged, covered = _compacted(folder)
    visible = {r.id for r in runs}
    if len([r for r in runs if r.id not in covered]) < at_least:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    name = f"history-{max(visible)}-{uuid.uuid4().hex[:8]}.parquet"
    # Sorting every change row of the history (28M rows at 10M customers x 24 runs) took 6 GiB
    # in memory; with a limit DuckDB sorts in pieces and spills to disk.
    engine = connect(EngineSpec(memory_limit=MERGE_MEMORY))
    try:
        changes = engine.read_parquet("changes", history_files(runs))
        rows = changes.filter(changes.run_id.isin(sorted(visible)))
        engine.write_parquet(rows.order_by([CUSTOMER, "as_of", "run_id"]),
                             folder / f".{name}.tmp", row_group_size=65_536)
    finally:
        engine.close()
    (folder / f".{name}.tmp").rename(folder / name)
    index = folder / "index.json"
    staged = folder / ".index.json.tmp"
    staged.write_text(json.dumps({"file": name, "runs": sorted(visible)}), encoding="utf-8")
    staged.replace(index)
    # Keep the previous file for readers that opened it before the switch.
    for old in folder.glob("history-*.parquet"):
        if old.name != name and (merged is None or old.name != merged.name):
            old.unlink(missing_ok=True)
    return folder / name
