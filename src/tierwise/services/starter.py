"""``tierwise init``: a commented starter project with sample data.

The starter is the retail example (rules, RFM and the Chinese RFM value map, every field
commented) with a small synthetic data set, so `tierwise run value` works at once and a new user
edits a working project rather than a blank page.
"""

from __future__ import annotations

from pathlib import Path

from tierwise.errors import ConflictError
from tierwise.services.demo import copy_example
from tierwise.spec import PROJECT_FILE


def write_starter(folder: Path, *, force: bool = False, customers: int = 300) -> Path:
    """Write ``tierwise.yaml`` and ``data/`` into ``folder``.

    Raises:
        ConflictError: when ``folder`` already holds a project and ``force`` is not set.

    """
    if (folder / PROJECT_FILE).exists() and not force:
        raise ConflictError(
            f"{folder / PROJECT_FILE} already exists; pass --force to overwrite "
            "it (its data files are rewritten too)"
        )
    from tierwise.demo import write_retail

    path = copy_example("retail", folder)
    write_retail(folder / "data", customers=customers)
    return path
