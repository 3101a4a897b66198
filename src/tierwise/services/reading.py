"""Read a project's source as a run grades it: as it is, or mapped to linked customers.

A project whose linkage systems list their ``events:`` grades linked customers: its customers
source is a linkage version's file and each system's events carry that system's ids, mapped at
read time (:mod:`tierwise.sources.linked`). Every step that reads sources to grade (runs, kept
state, backfills, evaluations, checks, a customer's page, lists and deliveries) reads them
here, so none reads a system's ids as customers.

The version graded is the one ``<output>/linkage/CURRENT`` names (a text file written once the
store has recorded it). Each read names that version's own files, which never change, so a
``tierwise link run`` finishing while a run reads goes unseen by the files already opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError, NotFoundError
from tierwise.i18n import _
from tierwise.services.project import Project
from tierwise.sources.linked import relink
from tierwise.sources.read import LoadedSource, load_source
from tierwise.spec.linkage import CUSTOMERS_FILE, MAPPING_FILE, POINTER
from tierwise.spec.models import SourceSpec

if TYPE_CHECKING:
    from tierwise.engine import Engine


def linkage_folder(project: Project) -> Path:
    """The folder of the project's linkage versions."""
    return project.root / project.spec.output / "linkage"


def linked_version(project: Project) -> str | None:
    """The folder name of the version graded (``v0003``), or None before the first."""
    try:
        name = (linkage_folder(project) / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name or None


def grades_linked(project: Project) -> bool:
    """Whether the project grades linked customers (its systems list their events)."""
    return project.spec.linkage is not None and project.spec.linkage.grades_linked


def _version_folder(project: Project) -> Path:
    """The graded version's folder, holding its customers and mapping.

    Raises:
        DataError: no version yet, or the version was made before the systems listed events.
    """
    version = linked_version(project)
    folder = linkage_folder(project) / (version or "-")
    if version is None or not (folder / MAPPING_FILE).is_file():
        raise DataError(_(
            "this project grades linked customers, and no linkage version is in {folder}; "
            "run `tierwise link run` first").format(folder=linkage_folder(project)))
    if not (folder / CUSTOMERS_FILE).is_file():
        raise DataError(_(
            "linkage version {version} was made before the systems listed their `events:`, "
            "so it holds no linked customers; run `tierwise link run` again").format(
            version=version))
    return folder


def customers_source(project: Project) -> SourceSpec:
    """The customers source as read now: a linked project's names the graded version's file.

    Raises:
        DataError: the project grades linked customers and no usable version exists.
    """
    spec = project.spec.sources["customers"]
    if not grades_linked(project):
        return spec
    path = _version_folder(project) / CUSTOMERS_FILE
    return spec.model_copy(update={"path": str(path)})


def read(project: Project, name: str, engine: Engine, **options: Any) -> LoadedSource:
    """Source ``name`` read into ``engine``, with a system's ids mapped to linked customers.

    ``options`` go to :func:`~tierwise.sources.read.load_source` (``files``, ``rows``,
    ``facts``).

    Raises:
        DataError: the source cannot be read, or the project grades linked customers and
            no linkage has run yet.
    """
    spec = project.spec.sources[name]
    linkage = project.spec.linkage
    if linkage is None or not linkage.grades_linked:
        return load_source(name, spec, engine, base=project.root, **options)
    folder = _version_folder(project)
    if name == "customers":
        spec = spec.model_copy(update={"path": str(folder / CUSTOMERS_FILE)})
    loaded = load_source(name, spec, engine, base=project.root, **options)
    system = linkage.system_of(name)
    return loaded if system is None else relink(loaded, engine, folder / MAPPING_FILE, system)


def _mapping(project: Project, column: str, value: str) -> list[dict[str, str]]:
    """The graded version's mapping rows whose ``column`` is ``value``."""
    import pyarrow.parquet as pq

    version = linked_version(project)
    path = linkage_folder(project) / (version or "-") / MAPPING_FILE
    if version is None or not path.is_file():
        return []
    rows: list[dict[str, str]] = pq.read_table(
        path, columns=["unique_id", "system", "source_id", "customer_id"],
        filters=[(column, "=", value)]).to_pylist()
    return rows


def customer_of(project: Project, given: str) -> str:
    """The linked customer a person means by ``given``, in a project graded over them.

    ``given`` may be a customer's id, one of its records (``shop:S0000017``) or a system's
    own id (``S0000017``, when only one record has it); anything else is returned unchanged,
    for the caller to report as not found. A customer id is returned as it is, even when a
    later version joined it to another customer: its past grades keep that id.

    Raises:
        NotFoundError: a system's own id that records of several systems have.
    """
    if not grades_linked(project) or _mapping(project, "customer_id", given):
        return given
    found = {r["customer_id"] for r in _mapping(project, "unique_id", given)}
    if found:
        return found.pop()
    records = _mapping(project, "source_id", given)
    if len({r["customer_id"] for r in records}) > 1:
        raise NotFoundError(_(
            "{id!r} is a member id in several systems ({records}); write the record as "
            "system:id").format(id=given, records=_(", ").join(sorted(
                r["unique_id"] for r in records))))
    return records[0]["customer_id"] if records else given


def records_of(project: Project, customer_id: str) -> dict[str, list[str]]:
    """Per system, the linked customer's own ids there (empty when nothing is linked)."""
    out: dict[str, list[str]] = {}
    for row in sorted(_mapping(project, "customer_id", customer_id),
                      key=lambda r: r["unique_id"]):
        out.setdefault(row["system"], []).append(row["source_id"])
    return out
