from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import pandas as pd
import pytest

from tierwise.methods import grade, with_texts
from tierwise.spec.loader import TypeAdapter  # type: ignore[attr-defined]
from tierwise.spec.models import SchemeSpec

AS_OF = date(2026, 6, 30)
_SCHEME = TypeAdapter(SchemeSpec)


def scheme(body: dict[str, Any]) -> Any:
    return _SCHEME.validate_python(body)


@pytest.fixture(scope="session")
def con() -> Any:
    return ibis.duckdb.connect()


@pytest.fixture
def run_grades(con: Any) -> Callable[[dict[str, Any], dict[str, list[Any]]], pd.DataFrame]:
    def _run(body: dict[str, Any], features: dict[str, list[Any]]) -> pd.DataFrame:
        table = ibis.memtable(pd.DataFrame(features))
        spec = scheme(body)
        graded = grade(spec, table, as_of=AS_OF).join(table, "customer_id")
        out = con.execute(with_texts(spec, graded, as_of=AS_OF))
        return out.sort_values("customer_id").set_index("customer_id")

    return _run
