"""A run's files: grades, features, extra tables, exports and ``run.json``, written atomically.

Every file goes into a staging folder beside the run's folder, renamed into place when all are
written (:func:`staged`): a run's folder is whole or absent, never half-written.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise import methods
from tierwise.errors import DataError
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.methods.fitted import FittedModel
from tierwise.services.export_columns import for_people
from tierwise.services.resolved import ResolvedScheme
from tierwise.services.sheets import write_csv, write_xlsx
from tierwise.services.texts import SCHEME_ADAPTER, render_texts

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.spec.models import TierSpec

#: The file a fitted model's binary artifact is saved in, beside ``run.json``.
ARTIFACT = "model.artifact"
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class GradeFacts:
    """What a grade table holds, counted in the engine: rows, gaps, customers per tier.

    Attributes:
        rows: grades.
        missing_ids: grades without a customer id.
        missing_tiers: grades without a tier.
        by_tier: customers and the sum of the value indicator per tier key.
        by_source: customers per (tier, source) where grades say how the tier was reached.

    """

    rows: int
    missing_ids: int
    missing_tiers: int
    by_tier: dict[str, tuple[int, float | None]]
    by_source: dict[tuple[str, str], int]

    def wins(self) -> dict[str, int]:
        """Customers per tier."""
        return {k: n for k, (n, _) in self.by_tier.items()}

    def check_one_grade(self, *, customers: int) -> None:
        """One grade per customer: as many grades as customers, none without an id or a tier.

        The customers are unique (a checked source), so equal counts mean one grade each;
        counting distinct ids of millions of customers would cost a second per scheme to say
        the same.
        """
        if self.rows != customers or self.missing_ids or self.missing_tiers:
            raise DataError(
                _("grading produced {rows} grades ({missing_ids} without a customer, "
                  "{missing_tiers} without a tier) for {customers} customers; this is a bug in "
                  "tierwise, please report it with the scheme").format(rows=self.rows,
                    missing_ids=self.missing_ids, missing_tiers=self.missing_tiers,
                    customers=customers)
            )


def grade_facts(engine: Engine, grades: ir.Table, *, value: bool) -> GradeFacts:
    """Count a grade table in the engine, in one grouped query over its tiers."""
    keys = ["tier", *(["source"] if "source" in grades.columns else [])]
    aggs: dict[str, Any] = {"_n": grades.count(),
                            "_no_id": grades.count(where=grades[CUSTOMER].isnull())}
    if value:
        aggs["_v"] = grades.value.sum()
    rows = engine.to_arrow(grades.group_by(keys).aggregate(**aggs)).to_pylist()
    by_tier: dict[str, tuple[int, float | None]] = {}
    by_source: dict[tuple[str, str], int] = {}
    missing_tiers = 0
    for row in rows:
        n = int(row["_n"])
        if row["tier"] is None:
            missing_tiers += n
            continue
        count, total = by_tier.get(row["tier"], (0, 0.0 if value else None))
        by_tier[row["tier"]] = (count + n, (total or 0.0) + float(row["_v"] or 0.0)
                                if value else None)
        if "source" in row:
            by_source[(row["tier"], row["source"])] = n
    return GradeFacts(sum(int(r["_n"]) for r in rows), sum(int(r["_no_id"]) for r in rows),
                      missing_tiers, by_tier, by_source)


def labelled_expr(grades: ir.Table, tiers: tuple[TierSpec, ...] | list[TierSpec]) -> ir.Table:
    """The grade table with the tier labels in English and Chinese beside the tier key."""
    import ibis

    def label(lang: str) -> ir.Value:
        if _keys_only(tiers, lang):
            return grades.tier.cast("string")
        return grades.tier.cases(*((t.key, t.label_text(lang)) for t in tiers),
                                 else_=ibis.null("string"))

    columns: list[Any] = []
    for name in grades.columns:
        columns.append(grades[name])
        if name == "tier":
            columns += [label("en").name("tier_label_en"), label("zh").name("tier_label_zh")]
    return grades.select(*columns)


def closed_columns(scheme: ResolvedScheme) -> dict[str, list[str]]:
    """The string columns of a grade file that hold only values known before grading.

    The tier and its label columns (:func:`labelled_expr`: a ``CASE`` over the tier keys, or
    the keys again), and the method's :meth:`~tierwise.methods.protocol.Method.closed_details`.
    The engine writes them from these lists (0.04 s a column at 10M rows, against 0.2-0.3 s).
    A tier held from an earlier version of the scheme, under a stability policy, may be none
    of the current keys: the engine then writes the file again without the lists, so such a
    run costs a second write, not a wrong file.
    """
    keys = [t.key for t in scheme.tiers]
    labels = {f"tier_label_{lang}": (keys if _keys_only(scheme.tiers, lang)
                                     else [t.label_text(lang) for t in scheme.tiers])
              for lang in ("en", "zh")}
    return {"tier": keys, **labels, **methods.closed_details(scheme.spec)}


def _keys_only(tiers: tuple[TierSpec, ...] | list[TierSpec], lang: str) -> bool:
    """Whether no tier has a label in ``lang``, so its label column repeats the keys."""
    return all(t.label_text(lang) == t.key for t in tiers)


@contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A staging folder beside ``folder``, renamed into its place when the block succeeds.

    It is removed when the block fails: a run's folder is whole or absent, never half-written.
    """
    staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        yield staging
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@dataclass
class RunFiles:
    """What a run writes beside its ``grades.parquet``.

    Attributes:
        features: The feature columns the scheme used (customer id first).
        export: ``csv`` and/or ``xlsx``: readable grades with reasons and gaps, for people.
        extra: More tables by file name (a recorded run's ``changes.parquet``).
        info: Facts for ``run.json`` (``model``: what a learning method fitted, read back by
            the next recorded run).
        features_file: A features file this run already wrote with the same columns (another
            scheme's): hard-linked (or copied) instead of written again.

    """

    features: ir.Table
    export: list[str] = field(default_factory=list)
    extra: dict[str, ir.Table] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    features_file: Path | None = None


def write_files(engine: Engine, staging: Path, folder: Path, scheme: ResolvedScheme,
                as_of: date, files: RunFiles, *, fault: Callable[[str], None]) -> list[Path]:
    """Add a run's other files to ``staging``, which already holds its ``grades.parquet``.

    ``staging`` is the folder of the caller's :func:`staged` block, renamed to ``folder`` when
    the block ends. The engine computes and encodes each file (the features, and the extra
    tables written in row groups of 64k rows in their own order), so no table of millions of
    rows passes through Python. ``fault`` is called between the files with the name of the
    point reached (crash tests).

    Returns:
        The export files, at their place in ``folder``.

    """
    name = scheme.name
    if files.features_file is None or not _share(files.features_file,
                                                 staging / "features.parquet"):
        engine.write_parquet(files.features, staging / "features.parquet")
    fault(f"written_grades:{name}")
    for file_name, table in files.extra.items():
        engine.write_parquet(table, staging / file_name, row_group_size=65_536)
        fault(f"written_{file_name}:{name}")
    names = ["grades.parquet", "features.parquet", *files.extra]
    names += _write_exports(staging, scheme, as_of, files.export)
    info = dict(files.info)
    model = info.get("model")
    if isinstance(model, FittedModel):
        # A fitted model's binary artifact lies beside run.json, which names it.
        artifact = model.artifact
        if artifact is not None:
            (staging / ARTIFACT).write_bytes(artifact)
            names.append(ARTIFACT)
        info["model"] = model.to_json(artifact_file=ARTIFACT if artifact is not None else None)
    (staging / "run.json").write_text(
        json.dumps(
            {
                "scheme": name,
                "as_of": as_of.isoformat(),
                **info,
                # The spec as graded, so its texts render the same after the YAML changes.
                "spec": SCHEME_ADAPTER.dump_python(scheme.spec, mode="json", by_alias=True),
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    fault(f"before_rename:{name}")
    return [folder / n for n in names if not n.endswith(".parquet")]


def _write_exports(staging: Path, scheme: ResolvedScheme, as_of: date, export: list[str]
                   ) -> list[str]:
    """Write the export files into ``staging``; their names."""
    if not export:
        return []
    import pyarrow.parquet as pq

    # Exports are for people: they carry the rendered reasons and gaps, the tiers' descriptions
    # and strategies, and headers in the reader's language (grades.parquet keeps the keys).
    readable = for_people(render_texts(scheme.spec, pq.read_table(staging / "grades.parquet"),
                                       pq.read_table(staging / "features.parquet"), as_of=as_of),
                          scheme.tiers)
    names = []
    if "csv" in export:
        write_csv(readable, staging / "grades.csv")
        names.append("grades.csv")
    if "xlsx" in export:
        write_xlsx(readable, staging / "grades.xlsx", scheme.name)
        names.append("grades.xlsx")
    return names


def _share(source: Path, target: Path) -> bool:
    """Put the file ``source`` at ``target`` too: a hard link, else a copy; False when neither.

    Run files are never changed in place (a rerun writes a new folder and renames it), so two
    folders may hold one file: removing either folder leaves the other's intact.
    """
    try:
        os.link(source, target)
        return True
    except OSError:
        pass
    try:
        shutil.copyfile(source, target)
        return True
    except OSError:
        target.unlink(missing_ok=True)
        return False
