"""Cross-reference checks: the indicators a scheme ranks or scores must be numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from tierwise.errors import SpecError
from tierwise.spec import load_project

PROJECT = """
name: shop
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      region: {type: string}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
      sku: {type: string}
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
  skus: {source: transactions, agg: count_distinct, column: sku}
  aov: {expr: "div(spend_12m, orders_12m, 0)"}
  region: {attribute: region}
  last_order: {source: transactions, agg: max, column: order_date}
  big: {expr: "spend_12m > 1000"}
schemes:
  pareto:
    method: abc
    value: VALUE
    tiers: [{key: A, cumulative: 0.8}, {key: B}]
  grade:
    method: scorecard
    dimensions:
      - {indicator: spend_12m, weight: 0.4}
      - {indicator: DIM1, weight: 0.3}
      - {indicator: DIM2, weight: 0.3}
    tiers: [{key: top, min_score: 50}, {key: rest}]
"""


def _project(tmp_path: Path, *, value: str, dim1: str, dim2: str) -> str:
    text = PROJECT.replace("VALUE", value).replace("DIM1", dim1).replace("DIM2", dim2)
    write(tmp_path, "tierwise.yaml", text)
    return text


def _line(text: str, needle: str) -> int:
    """1-based line of ``needle`` in the file as written (write() drops the leading newline)."""
    lines = text.lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_numeric_indicators_pass(tmp_path: Path) -> None:
    # A count, a sum, a count of distinct values and a derived number are all numbers.
    _project(tmp_path, value="spend_12m", dim1="skus", dim2="aov")
    spec, _ = load_project(tmp_path)
    assert set(spec.schemes) == {"pareto", "grade"}


def test_non_numeric_value_and_dimensions_reported_together(tmp_path: Path) -> None:
    text = _project(tmp_path, value="region", dim1="last_order", dim2="big")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    found = {p.path: p for p in info.value.problems}
    assert sorted(found) == [
        "schemes.grade.dimensions[1].indicator",
        "schemes.grade.dimensions[2].indicator",
        "schemes.pareto.value",
    ]
    value = found["schemes.pareto.value"]
    assert value.message == (
        "indicator 'region' is a string, but the abc value needs a number; "
        "use a count, sum or average, or a numeric column"
    )
    assert value.where.endswith(f"tierwise.yaml:{_line(text, 'value: region')}")
    date_dim = found["schemes.grade.dimensions[1].indicator"]
    assert date_dim.message == (
        "indicator 'last_order' is a date, but a scorecard dimension needs a number; "
        "derive a number with `expr: days_since(last_order)`"
    )
    # Located on the dimension's own line, not on `dimensions:`.
    assert date_dim.where.endswith(f"tierwise.yaml:{_line(text, 'indicator: last_order')}")
    bool_dim = found["schemes.grade.dimensions[2].indicator"]
    assert bool_dim.message.startswith("indicator 'big' is a bool, but a scorecard dimension")
    assert bool_dim.where.endswith(f"tierwise.yaml:{_line(text, 'indicator: big')}")


def test_unknown_dimension_indicator_is_located(tmp_path: Path) -> None:
    text = _project(tmp_path, value="spend_12m", dim1="skus", dim2="spend_12n")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "schemes.grade.dimensions[2].indicator"
    assert problem.message == "unknown indicator 'spend_12n'; did you mean 'spend_12m'?"
    assert problem.where.endswith(f"tierwise.yaml:{_line(text, 'indicator: spend_12n')}")


def test_an_indicator_scored_twice_is_reported(tmp_path: Path) -> None:
    text = _project(tmp_path, value="spend_12m", dim1="aov", dim2="aov")
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "schemes.grade.dimensions[2].indicator"
    assert problem.message == (
        "indicator 'aov' is scored twice; keep one dimension for it and add up the weights"
    )
    lines = text.lstrip("\n").splitlines()
    second = [i for i, line in enumerate(lines, 1) if "indicator: aov" in line][1]
    assert problem.where.endswith(f"tierwise.yaml:{second}")


def test_conditions_must_be_true_or_false(tmp_path: Path) -> None:
    # A number or a text where a condition belongs is refused at load time, on its own line,
    # for a `where:`, a tier's `when:` and a source's `refunds:` alike.
    text = (
        PROJECT.replace("VALUE", "spend_12m").replace("DIM1", "skus").replace("DIM2", "aov")
        .replace("      sku: {type: string}\n",
                 "      sku: {type: string}\n    refunds: \"sku\"\n")
        .replace("  skus: {source: transactions, agg: count_distinct, column: sku}",
                 "  skus: {source: transactions, agg: count_distinct, column: sku, "
                 "where: \"amount\"}")
        + """  ladder:
    method: rules
    tiers:
      - {key: gold, when: "1"}
      - {key: rest}
    fallback: rest
"""
    )
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    found = {p.path: p for p in info.value.problems}
    assert sorted(found) == [
        "indicators.skus.where", "schemes.ladder.tiers[0].when", "sources.transactions.refunds",
    ]
    where = found["indicators.skus.where"]
    assert where.message == (
        "a condition must be true or false, but 'amount' at column 1 is a number; compare it, "
        "e.g. 'amount > 0'"
    )
    assert where.where.endswith(f"tierwise.yaml:{_line(text, 'where: ')}")
    assert found["schemes.ladder.tiers[0].when"].message.startswith(
        "a condition must be true or false, but '1' at column 1 is a number; write a comparison"
    )
    when_line = _line(text, '{key: gold, when: "1"}')
    assert found["schemes.ladder.tiers[0].when"].where.endswith(f"tierwise.yaml:{when_line}")
    assert found["sources.transactions.refunds"].message == (
        "a condition must be true or false, but 'sku' at column 1 is a string; compare it, "
        "e.g. \"sku == 'web'\""
    )


@pytest.mark.parametrize(("description", "path", "words"), [
    ("[a, b]", "schemes.pareto.description", "is not a mapping"),
    ("{en: Shares, fr: Parts}", "schemes.pareto.description.fr", "'fr'"),
])
def test_a_bad_scheme_description_is_located(tmp_path: Path, description: str, path: str,
                                             words: str) -> None:
    text = _project(tmp_path, value="spend_12m", dim1="skus", dim2="aov")
    text = text.replace("  pareto:\n", f"  pareto:\n    description: {description}\n", 1)
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    found = {p.path: p.message for p in info.value.problems}
    assert path in found and words in found[path]


def test_a_scheme_description_in_three_languages_loads(tmp_path: Path) -> None:
    text = _project(tmp_path, value="spend_12m", dim1="skus", dim2="aov")
    write(tmp_path, "tierwise.yaml", text.replace(
        "  pareto:\n", "  pareto:\n    description: {en: Shares, zh: 份额, zh-Hant: 份額}\n", 1))
    spec, _ = load_project(tmp_path)
    assert spec.schemes["pareto"].description_text("zh-Hant") == "份額"
