"""Read a project's source as a run grades it: as it is, or mapped to linked customers.

A project whose linkage systems list their ``events:`` grades linked customers: its customers
source is the latest linkage version's file and each system's events carry that system's ids,
mapped at read time (:mod:`tierwise.sources.linked`). Every step that reads sources to grade
(runs, kept state, backfills, evaluations, checks) reads them here, so none reads a system's
ids as customers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError
from tierwise.i18n import _
from tierwise.services.project import Project
from tierwise.sources.linked import relink
from tierwise.sources.read import LoadedSource, load_source
from tierwise.spec.linkage import CURRENT, CUSTOMERS_FILE, MAPPING_FILE

if TYPE_CHECKING:
    from tierwise.engine import Engine


def linked_folder(project: Project) -> Path:
    """The folder of the latest linkage version's files (a link to ``v<number>``)."""
    return project.root / project.spec.output / "linkage" / CURRENT


def linked_version(project: Project) -> str | None:
    """The folder name of the version graded (``v0003``), or None when nothing is linked."""
    try:
        return os.readlink(linked_folder(project))
    except OSError:
        return None


def read(project: Project, name: str, engine: Engine, **options: Any) -> LoadedSource:
    """Source ``name`` read into ``engine``, with a system's ids mapped to linked customers.

    ``options`` go to :func:`~tierwise.sources.read.load_source` (``files``, ``rows``).

    Raises:
        DataError: the source cannot be read, or the project grades linked customers and
            no linkage has run yet.
    """
    spec = project.spec.sources[name]
    linkage = project.spec.linkage
    if linkage is None or not linkage.grades_linked:
        return load_source(name, spec, engine, base=project.root, **options)
    folder = linked_folder(project)
    if not (folder / CUSTOMERS_FILE).is_file() or not (folder / MAPPING_FILE).is_file():
        raise DataError(_(
            "this project grades linked customers, and no linkage version is at {folder}; "
            "run `tierwise link run` first").format(folder=folder))
    loaded = load_source(name, spec, engine, base=project.root, **options)
    system = linkage.system_of(name)
    return loaded if system is None else relink(loaded, engine, folder / MAPPING_FILE, system)


def _mapping(project: Project, column: str, value: str) -> list[dict[str, str]]:
    """The latest version's mapping rows whose ``column`` is ``value``."""
    import pyarrow.parquet as pq

    path = linked_folder(project) / MAPPING_FILE
    if not path.is_file():
        return []
    rows: list[dict[str, str]] = pq.read_table(
        path, columns=["unique_id", "system", "source_id", "customer_id"],
        filters=[(column, "=", value)]).to_pylist()
    return rows


def customer_of(project: Project, given: str) -> str:
    """The linked customer a person means by ``given``, in a project graded over them.

    ``given`` may be the customer's id, one of its records (``shop:S0000017``) or a system's
    own id (``S0000017``, when only one record has it); anything else is returned unchanged,
    for the caller to report as not found.
    """
    linkage = project.spec.linkage
    if linkage is None or not linkage.grades_linked:
        return given
    for column in ("unique_id", "source_id"):
        found = {r["customer_id"] for r in _mapping(project, column, given)}
        if len(found) == 1:
            return found.pop()
    return given


def records_of(project: Project, customer_id: str) -> dict[str, list[str]]:
    """Per system, the linked customer's own ids there (empty when nothing is linked)."""
    out: dict[str, list[str]] = {}
    for row in sorted(_mapping(project, "customer_id", customer_id),
                      key=lambda r: r["unique_id"]):
        out.setdefault(row["system"], []).append(row["source_id"])
    return out
