"""Shared set-up for the expression-language tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# Until the project is installed (pip install -e .), import tierwise from the source tree.
if importlib.util.find_spec("tierwise") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

# The DuckDB and Spark test modules share expr_cases.py; make it importable in any import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
