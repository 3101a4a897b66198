"""Grade files write their tier, label and code columns from lists known before grading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tierwise.demo import write_b2b, write_bank, write_retail
from tierwise.engine import Engine
from tierwise.services import run_files
from tierwise.services.demo import copy_example
from tierwise.services.grading import Project, run_schemes
from tierwise.services.resolved import ResolvedScheme

WRITERS: dict[str, Callable[[Path], None]] = {
    "retail": lambda data: write_retail(data, customers=300),
    "bank": lambda data: write_bank(data, customers=1000),
    "b2b": lambda data: write_b2b(data, accounts=200),
}


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """What each grade file's write returned: whether its closed lists held every value."""
    seen: dict[str, bool] = {}
    write = Engine.write_parquet

    def recording(self: Engine, expr: Any, path: str | Path, **kwargs: Any) -> bool:
        result = write(self, expr, path, **kwargs)
        if Path(path).name == "grades.parquet":
            seen[Path(path).parent.parent.name] = result  # output/<scheme>/<staging>
        return result

    monkeypatch.setattr(Engine, "write_parquet", recording)
    yield seen


@pytest.mark.parametrize("example", sorted(WRITERS))
def test_every_example_scheme_writes_its_grades_from_the_lists(
        example: str, tmp_path: Path, held: dict[str, bool]) -> None:
    copy_example(example, tmp_path)
    WRITERS[example](tmp_path / "data")
    project = Project.open(tmp_path)
    names = list(project.spec.schemes)
    results = run_schemes(project, names)
    assert len(held) == len(names) and all(held.values()), held
    for result in results:
        closed = run_files.closed_columns(
            ResolvedScheme.of(result.scheme, project.spec.schemes[result.scheme]))
        grades = pq.read_table(result.folder / "grades.parquet")
        assert set(closed) <= set(grades.column_names)  # a misspelt name would be skipped
        for column, values in closed.items():
            if column in grades.column_names:
                found = set(grades.column(column).drop_null().to_pylist())
                assert found <= set(values), (result.scheme, column, found - set(values))
                assert found, (result.scheme, column)  # the test reads real values


def test_a_list_that_misses_a_tier_costs_a_second_write_not_a_wrong_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: dict[str, bool]) -> None:
    copy_example("retail", tmp_path)
    write_retail(tmp_path / "data", customers=300)
    project = Project.open(tmp_path)
    right = {r.scheme: pq.read_table(r.folder / "grades.parquet")
             for r in run_schemes(project, ["value", "rfm"])}
    assert held == {"value": True, "rfm": True}
    complete = run_files.closed_columns

    def missing_one(scheme: ResolvedScheme) -> dict[str, list[str]]:
        return {name: values[1:] for name, values in complete(scheme).items()}

    monkeypatch.setattr("tierwise.services.pipeline.closed_columns", missing_one)
    for result in run_schemes(project, ["value", "rfm"]):
        assert pq.read_table(result.folder / "grades.parquet").equals(right[result.scheme])
    assert held == {"value": False, "rfm": False}


@pytest.mark.parametrize("scores", [3, 10])
def test_rfm_codes_list_every_code_its_grades_spell(scores: int) -> None:
    import pyarrow as pa

    from tierwise.engine import connect
    from tierwise.methods.rfm import codes, grade
    from tierwise.spec.schemes import RfmSchemeSpec

    spec = RfmSchemeSpec.model_validate({
        "method": "rfm", "scores": scores, "segments": "cn8", "recency": "r",
        "frequency": "f", "monetary": "m"})
    n = 2_000
    engine = connect()
    try:
        features = engine.register_arrow("features", pa.table({
            "customer_id": [f"c{i}" for i in range(n)], "r": [(i * 7) % 365 for i in range(n)],
            "f": [(i * 13) % 41 for i in range(n)], "m": [float((i * 31) % 997) for i in range(n)],
        }))
        spelled = set(engine.to_arrow(grade(spec, features)).column("rfm_code").to_pylist())
    finally:
        engine.close()
    listed = codes(spec)
    assert len(listed) == scores ** 3 and spelled <= set(listed)
    assert len(spelled) > scores  # the data reach many codes, not one
