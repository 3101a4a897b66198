"""Threshold analysis: names, disjunctive normal form and unsatisfiable conjunctions."""

from __future__ import annotations

import pytest

from tierwise.expr import Atom, atoms, names, parse, unsatisfiable


def dnf(text: str) -> list[list[str]] | None:
    found = atoms(parse(text))
    return None if found is None else [[str(atom) for atom in conj] for conj in found]


def test_names_exclude_functions_and_literals() -> None:
    text = "coalesce(margin, 0) / greatest(revenue, 1) > x and `order count` in (a, 'b')"
    assert names(parse(text)) == {"margin", "revenue", "x", "order count", "a"}
    assert names(parse("days_since(date('2026-01-01')) > 3")) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders_12m >= 10", [["orders_12m >= 10"]]),
        ("orders_12m >= 10 and spend_12m >= 10000", [["orders_12m >= 10", "spend_12m >= 10000"]]),
        # between is two atoms; 'a and (b or c)' distributes into two conjunctions
        (
            "orders_12m between 5 and 9 and (spend_12m between 5000 and 9999 or spend_12m < 10000)",
            [
                ["orders_12m >= 5", "orders_12m <= 9", "spend_12m >= 5000", "spend_12m <= 9999"],
                ["orders_12m >= 5", "orders_12m <= 9", "spend_12m < 10000"],
            ],
        ),
        ("a > 1 or b < 2", [["a > 1"], ["b < 2"]]),
        # literal on the left is flipped: 5 <= x is x >= 5
        ("5 <= x and 10 > y and 3 == z", [["x >= 5", "y < 10", "z == 3"]]),
        ("x >= -5 and x < - -2.5", [["x >= -5", "x < 2.5"]]),
        ("x = 1.5e3", [["x == 1500"]]),
        # not goes down to the comparisons
        ("not x >= 5", [["x < 5"]]),
        ("not (x > 5)", [["x <= 5"]]),
        ("not not x < 5", [["x < 5"]]),
        ("not x != 3", [["x == 3"]]),
        ("not (a >= 1 and b >= 2)", [["a < 1"], ["b < 2"]]),
        ("not (a >= 1 or b >= 2)", [["a < 1", "b < 2"]]),
        ("x not between 1 and 5", [["x < 1"], ["x > 5"]]),
        ("not x between 1 and 5", [["x < 1"], ["x > 5"]]),
        ("not x not between 1 and 5", [["x >= 1", "x <= 5"]]),
        ("x in (1, 2)", [["x == 1"], ["x == 2"]]),
    ],
)
def test_dnf(text: str, expected: list[list[str]]) -> None:
    assert dnf(text) == expected


def test_atoms_hold_floats() -> None:
    assert atoms(parse("orders_12m >= 10")) == [[Atom("orders_12m", ">=", 10.0)]]


@pytest.mark.parametrize(
    "text",
    [
        "channel == 'web'",  # text equality
        "is_vip",  # a flag
        "is_vip and x > 1",
        "abs(x) > 1",  # a function
        "x + 1 > 2",  # arithmetic
        "x > y",  # name against name
        "x != 3",  # not monotone
        "not x == 3",
        "x not in (1, 2)",
        "x in (1, y)",
        "x is null",
        "1 < 2",
        "x > 10 * 1000",  # a constant expression, not a literal
        "x between 1 and y",
        "d >= date('2026-01-01')",
        "x == true",
    ],
)
def test_not_a_threshold_condition(text: str) -> None:
    assert atoms(parse(text)) is None


def test_expansion_is_capped_at_64_conjunctions() -> None:
    # (a1 or b1) and ... and (a6 or b6) has 2^6 = 64 conjunctions; one more factor makes 128.
    factors = [f"(a{i} > 0 or b{i} > 0)" for i in range(7)]
    found = atoms(parse(" and ".join(factors[:6])))
    assert found is not None and len(found) == 64
    assert atoms(parse(" and ".join(factors))) is None
    # 65 alternatives in 13 parenthesized groups of 5 (a flat chain of 65 would be nested too deep)
    groups = [" or ".join(f"x == {i}" for i in range(g, g + 5)) for g in range(0, 65, 5)]
    wide = " or ".join(f"({group})" for group in groups)
    assert atoms(parse(wide)) is None
    assert atoms(parse(f"x in ({', '.join(str(i) for i in range(65))})")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x >= 10 and x < 5", True),
        ("x == 3 and x > 4", True),
        ("x == 3 and x == 4", True),
        ("x > 5 and x <= 5", True),
        ("x >= 5 and x < 5", True),
        ("x > 5 and x < 5", True),
        ("x between 10 and 5", True),
        ("x >= 5 and x <= 5", False),  # exactly 5
        ("x == 5 and x >= 5 and x <= 5", False),
        ("x > 3 and x < 4", False),  # real-valued: 3.5 fits
        ("x >= 10 and y < 5", False),  # different names never clash
        ("x > 1 and x > 2 and x < 3", False),
        ("x >= 2 and x > 2 and x <= 2", True),  # the open bound wins at the same value
        ("x <= 2 and x < 2 and x >= 2", True),
    ],
)
def test_unsatisfiable(text: str, expected: bool) -> None:
    found = atoms(parse(text))
    assert found is not None and len(found) == 1
    assert unsatisfiable(found[0]) is expected


def test_empty_conjunction_is_satisfiable() -> None:
    assert unsatisfiable([]) is False


def test_unsatisfiable_finds_dead_branches_of_a_tier() -> None:
    found = atoms(parse("(x >= 10 and x < 5) or (x >= 1 and y < 2)"))
    assert found is not None
    assert [unsatisfiable(conj) for conj in found] == [True, False]
