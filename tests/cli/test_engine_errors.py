"""Engine failures on the command line: one readable line, the SQL with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.sources.shop import YAML, shop

# DuckDB with 1 MB of memory loads the shop's tables but runs out grading them.
SMALL = YAML.replace("as_of: 2026-06-30",
                     "as_of: 2026-06-30\nengine: {kind: duckdb, memory_limit: 1MB, threads: 1}")


def _tierwise(*args: str | Path) -> subprocess.CompletedProcess[str]:
    # A real process: with --debug the CLI re-raises and Python prints the traceback and notes.
    code = "import sys; from tierwise.cli.main import main; sys.argv[0] = 'tierwise'; main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
                          check=False)


def test_an_engine_error_prints_one_line_and_the_sql_only_with_debug(tmp_path: Path) -> None:
    folder = shop(tmp_path, yaml=SMALL)
    plain = _tierwise("run", "value", "-p", folder)
    assert plain.returncode == 1
    assert "error: duckdb failed: Out of Memory Error" in plain.stderr
    assert "SELECT" not in plain.stderr and "Traceback" not in plain.stderr
    debug = _tierwise("--debug", "run", "value", "-p", folder)
    assert debug.returncode == 1
    assert "EngineError: duckdb failed: Out of Memory Error" in debug.stderr
    sql = debug.stderr.split("-- generated SQL:\n", 1)[1]
    assert sql.startswith("SELECT") or sql.startswith("WITH"), sql[:200]
