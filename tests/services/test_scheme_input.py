"""Scheme specs and names from callers (the REST API, the dashboard): refused before harm."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tests.sources.shop import YAML, shop
from tierwise.errors import SpecError
from tierwise.services import history, overrides, runs, versions
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest
from tierwise.spec import SCHEME_NAME_RULE, check_scheme_name
from tierwise.store import schemes as store_schemes
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


# -------------------------------------------------------------------------------- scheme names

BAD_NAMES = ["val\x00ue", "\u202evalue", "..", "../value", "a.b", "a/b", "", "value\n", "x" * 65]
RULE = "a scheme name has 1 to 64 characters"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_with_scheme_refuses_a_bad_name_showing_it_as_repr(tmp_path: Path, name: str) -> None:
    project = Project.open(shop(tmp_path))
    with pytest.raises(SpecError) as info:
        versions.with_scheme(project, name, _scheme("the rest"))
    [problem] = info.value.problems
    assert problem.message == f"scheme name {name!r} is not allowed; {SCHEME_NAME_RULE}"
    assert RULE in str(info.value)


def test_every_service_taking_a_scheme_name_applies_the_rule(tmp_path: Path) -> None:
    project = Project.open(shop(tmp_path))
    store = runs.open_store(project)
    name = "\u202evalue"
    shown = re.escape(repr(name))
    calls: list[Callable[[], object]] = [
        lambda: versions.save_edit(store, project, name, _scheme("x"), actor="ann", base=None),
        lambda: versions.save(store, project, name, actor="ann"),
        lambda: versions.activate(store, name, 1, actor="ann"),
        lambda: versions.rollback(store, name, actor="ann"),
        lambda: versions.listing(store, name),
        lambda: overrides.create(project, OverrideRequest(name, "c1", kind="pin", tier="high",
                                                          reason="r"), actor="ann", store=store),
        lambda: project.scheme(name),
        lambda: history.history(store, name, "c1"),
        lambda: history.latest_run(store, name),
        lambda: runs.run(project, [name]),
    ]
    try:
        for call in calls:
            with pytest.raises(SpecError, match=rf"scheme name {shown} is not allowed; {RULE}"):
                call()
        with store.connect() as conn:
            assert store_schemes.scheme_names(conn) == []  # nothing was created
    finally:
        store.close()


def test_the_yaml_file_applies_the_same_rule(tmp_path: Path) -> None:
    # YAML double-quoted keys can hold any character.
    text = YAML.replace("  value:\n    method: rules", '  "val\\0ue":\n    method: rules')
    text += '  "\\u202Ebad":\n    method: rules\n    tiers: [{key: a}]\n    fallback: a\n'
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError) as info:
        Project.open(tmp_path)
    found = [p for p in info.value.problems if p.path == "schemes"]
    assert [p.message for p in found] == [
        f"scheme name {'val' + chr(0) + 'ue'!r} is not allowed; {SCHEME_NAME_RULE}",
        f"scheme name {chr(0x202E) + 'bad'!r} is not allowed; {SCHEME_NAME_RULE}",
    ]
    assert found[0].where.endswith("tierwise.yaml:24")
    assert found[1].where.endswith("tierwise.yaml:31")


@pytest.mark.parametrize("name", ["value", "asset_tiers", "value-2026", "价值", "_draft"])
def test_ordinary_names_pass(tmp_path: Path, name: str) -> None:
    write(tmp_path, "tierwise.yaml", YAML.replace("  value:\n    method: rules",
                                                  f"  {name}:\n    method: rules"))
    project = Project.open(tmp_path)
    assert project.scheme(name).method == "rules"
    assert check_scheme_name(name) == name
