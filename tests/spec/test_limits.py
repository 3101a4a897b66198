"""Specs nested absurdly deep, or expanded by YAML aliases, are refused before anything recurses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write
from tests.sources.shop import YAML
from tierwise.errors import SpecError
from tierwise.spec import load_project
from tierwise.spec.limits import MAX_DEPTH, value_shape_problem, yaml_shape_problem

# The tier `other` is on line 29 of the file; its description goes on line 30.
OTHER = "      - {key: other}"


def _nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _deep_yaml(tmp_path: Path, value: str) -> Path:
    assert OTHER in YAML
    text = YAML.replace(OTHER, "      - key: other\n        description: " + value)
    write(tmp_path, "tierwise.yaml", text)
    return tmp_path


@pytest.mark.parametrize("depth", [500, 100_000])
@pytest.mark.parametrize("style", ["flow_lists", "flow_mappings", "block_lists"])
def test_deeply_nested_yaml_is_refused_with_path_and_limit(tmp_path: Path, depth: int,
                                                           style: str) -> None:
    value = {
        "flow_lists": "[" * depth + "]" * depth,
        "flow_mappings": "{a: " * depth + "x" + "}" * depth,
        "block_lists": "\n          " + "- " * depth + "x",
    }[style]
    folder = _deep_yaml(tmp_path, value)
    started = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_project(folder)
    # Stops at the first level beyond the limit: the YAML scanner is quadratic in flow depth.
    assert time.perf_counter() - started < 10
    [problem] = info.value.problems
    assert f"nested more than {MAX_DEPTH} levels deep" in problem.message
    assert "flatten or remove it" in problem.message
    step = "[0]" if style != "flow_mappings" else ".a"
    # The document is level 1, schemes 2, value 3, tiers 4, the tier 5, description 6..65.
    assert problem.path.startswith("schemes.value.tiers[2].description" + step * 5)
    assert problem.path.endswith("(54 more levels)")
    line = 31 if style == "block_lists" else 30
    assert problem.where == f"{folder / 'tierwise.yaml'}:{line}"


def test_nesting_up_to_the_limit_passes_the_shape_check() -> None:
    # The document (1), schemes (2), value (3), tiers (4), the tier (5): 59 more make 64.
    doc = {"schemes": {"value": {"tiers": [{"description": _nested_list(59)}]}}}
    assert value_shape_problem(doc) is None
    doc = {"schemes": {"value": {"tiers": [{"description": _nested_list(60)}]}}}
    found = value_shape_problem(doc)
    assert found is not None
    assert found.path[:5] == ("schemes", "value", "tiers", 0, "description")
    assert len(found.path) == MAX_DEPTH
    text = "a:\n  b: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    assert yaml_shape_problem(text) is None
    assert yaml_shape_problem(text.replace("b: [", "b: [[").replace("]\n", "]]\n")) is not None


def test_yaml_aliases_that_expand_to_millions_of_values_are_refused(tmp_path: Path) -> None:
    # "Billion laughs" in the project's description, which the loader copies into plain values:
    # each level holds ten of the previous one, 10**9 values in all.
    lines = ["description:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    write(tmp_path, "tierwise.yaml", YAML.replace("name: shop\n", "name: shop\n"
                                                  + "\n".join(lines) + "\n"))
    started = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    assert time.perf_counter() - started < 10
    [problem] = info.value.problems
    assert problem.message.startswith("the spec holds more than 1,000,000 values once YAML "
                                      "aliases (*name) are expanded (the limit)")
    # a{i} stands for 1 + 10 * a{i-1} values: a0 11, a4 111,111. a0..a4 and the rest hold about
    # 124,000 values, so a5's eighth alias (index 7) takes the count past 1,000,000.
    assert problem.path == "description.a5[7]"
    assert problem.where.endswith("tierwise.yaml:8")


def test_yaml_aliases_count_for_depth(tmp_path: Path) -> None:
    # *a stands for 40 levels; under the document (1) and 24 lists it would reach 65.
    deep = "[" * 40 + "]" * 40
    write(tmp_path, "tierwise.yaml", f"a: &a {deep}\nb: {'[' * 24}*a{']' * 24}\n")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    [problem] = info.value.problems
    assert "nested more than 64 levels deep" in problem.message
    # The alias is item 0 of the 24th list: 25 steps, shown as the first ten and a count.
    assert problem.path == "b" + "[0]" * 9 + "...(15 more levels)"
    assert problem.where.endswith("tierwise.yaml:2")


def test_a_value_that_contains_itself_is_too_deep() -> None:
    loop: dict[str, object] = {}
    loop["again"] = loop
    found = value_shape_problem({"schemes": loop})
    assert found is not None and len(found.path) == MAX_DEPTH
