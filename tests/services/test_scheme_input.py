"""Scheme specs and names from callers (the REST API, the dashboard): refused before harm."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.sources.shop import shop
from tierwise.errors import SpecError
from tierwise.services import versions
from tierwise.services.grading import Project
from tierwise.store.schemes import Version


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _scheme(description: Any) -> dict[str, Any]:
    return {"method": "rules", "fallback": "other",
            "tiers": [{"key": "high", "when": "spend_12m >= 100"},
                      {"key": "other", "description": description}]}


@pytest.mark.parametrize("depth", [500, 100_000])
def test_with_scheme_refuses_deep_nesting_with_path_and_limit(tmp_path: Path, depth: int) -> None:
    project = Project.open(shop(tmp_path))
    with pytest.raises(SpecError) as info:
        versions.with_scheme(project, "value", _scheme(_nested(depth)))
    [problem] = info.value.problems
    assert problem.path.startswith("schemes.value.tiers[1].description[0][0][0][0][0]")
    assert "nested more than 64 levels deep here (the limit)" in problem.message


def test_with_scheme_takes_a_scheme_within_the_limit(tmp_path: Path) -> None:
    project = Project.open(shop(tmp_path))
    edited = versions.with_scheme(project, "value", _scheme("the rest"))
    assert [t.key for t in edited.scheme("value").tiers] == ["high", "other"]  # type: ignore[union-attr]


def _version(number: int, spec: dict[str, Any]) -> Version:
    return Version(id=number, scheme="value", number=number, fingerprint="", spec=spec,
                   indicators={}, created_at=datetime(2026, 1, 1), created_by="ann", note=None,
                   revision=1)


def test_fingerprint_and_diff_refuse_deep_content() -> None:
    deep = _scheme(_nested(100_000))
    with pytest.raises(SpecError, match=r"nested more than 64 levels"):
        versions.fingerprint(deep, {})
    with pytest.raises(SpecError, match=r"value version 2: .*nested more than 64 levels"):
        versions.diff(_version(1, _scheme("x")), _version(2, deep))
    # Within the limit both work as before.
    assert [d.path for d in versions.diff(_version(1, _scheme("x")), _version(2, _scheme("y")))
            ] == ["scheme.tiers[1].description"]
