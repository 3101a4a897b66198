from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from tierwise.errors import SpecError
from tierwise.spec import load_project
from tierwise.spec.models import RulesSchemeSpec

GOOD = """
name: shop
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      signup_date: {type: date}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, label: {en: High value, zh: 高价值客户}, when: "orders_12m >= 10"}
      - {key: other}
    fallback: other
"""


def test_good_project_loads(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", GOOD)
    spec, root = load_project(tmp_path)
    assert root == tmp_path
    scheme = spec.schemes["value"]
    assert isinstance(scheme, RulesSchemeSpec)
    assert scheme.tiers[0].label_text("zh") == "高价值客户"


def test_three_mistakes_reported_together_with_lines(tmp_path: Path) -> None:
    text = (GOOD
            .replace("agg: count, window: 12m", "agg: cnt, window: 12m")       # line 17
            .replace('when: "orders_12m >= 10"', 'when: "orders_12n >= 10"')  # line 23
            .replace("fallback: other", "fallback: othr"))                      # line 25
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    problems = info.value.problems
    assert len(problems) == 3, problems
    where = {p.path: p.where for p in problems}
    assert where["indicators.orders_12m.agg"].endswith("tierwise.yaml:17")
    assert where["schemes.value.tiers[0].when"].endswith("tierwise.yaml:23")
    assert where["schemes.value.fallback"].endswith("tierwise.yaml:25")
    text = str(info.value)
    assert "3 problems" in text
    assert "'orders_12n'" in text and "orders_12m" in text  # names the typo and suggests the fix
    assert "fallback 'othr' is not a tier key" in text


def test_unknown_field_is_an_error_not_ignored(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", GOOD.replace("    time: order_date", "    tme: order_date"))
    with pytest.raises(SpecError, match=r"unknown field 'tme'"):
        load_project(tmp_path)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", GOOD.replace("  value:\n", "  value\n"))
    with pytest.raises(SpecError, match=r"tierwise.yaml:\d+"):
        load_project(tmp_path)


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="tierwise init"):
        load_project(tmp_path)


def test_weights_must_add_up(tmp_path: Path) -> None:
    text = GOOD + """
  grade:
    method: scorecard
    dimensions:
      - {indicator: spend_12m, weight: 0.5}
      - {indicator: orders_12m, weight: 0.3}
    tiers: [{key: a, min_score: 50}, {key: b}]
"""
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError, match=r"weights add up to 0\.8"):
        load_project(tmp_path)


def test_derived_cycle_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("schemes:", """  a: {expr: "b + 1"}
  b: {expr: "a + 1"}
schemes:""")
    write(tmp_path, "tierwise.yaml", text)
    with pytest.raises(SpecError, match="depends on itself"):
        load_project(tmp_path)


def test_a_column_name_ending_in_a_newline_is_not_an_identifier(tmp_path: Path) -> None:
    # With re.match, IDENT's `$` also matched before a trailing newline.
    write(tmp_path, "tierwise.yaml", GOOD.replace('      amount: {type: float}',
                                                  '      "amount\\n": {type: float}'))
    with pytest.raises(SpecError, match=r"column name 'amount\\n' is not an identifier"):
        load_project(tmp_path)


@pytest.mark.parametrize("master", ["local", "local[*]", "local[4]", "local[4,2]",
                                    "spark://10.0.0.5:7077", "spark://a:7077,b.example:7077",
                                    "yarn", "k8s://https://k8s.example:443"])
def test_spark_masters_of_every_kind_are_taken(tmp_path: Path, master: str) -> None:
    write(tmp_path, "tierwise.yaml", f'engine: {{kind: spark, master: "{master}"}}\n' + GOOD)
    assert load_project(tmp_path)[0].engine.master == master


@pytest.mark.parametrize("master", ["spark://host", "local[two]", "mesos://h:5050", ""])
def test_an_unknown_spark_master_names_the_forms(tmp_path: Path, master: str) -> None:
    write(tmp_path, "tierwise.yaml", f'engine: {{kind: spark, master: "{master}"}}\n' + GOOD)
    with pytest.raises(SpecError, match=r"is not a Spark master; write local\[2\]"):
        load_project(tmp_path)


def test_spark_config_is_read_as_text(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", "engine:\n  kind: spark\n  config:\n"
          "    spark.executor.memory: 4g\n    spark.executor.cores: 2\n"
          "    spark.dynamicAllocation.enabled: true\n" + GOOD)
    assert load_project(tmp_path)[0].engine.config == {
        "spark.executor.memory": "4g", "spark.executor.cores": "2",
        "spark.dynamicAllocation.enabled": "true"}


@pytest.mark.parametrize(("engine", "message"), [
    ("{kind: spark, config: {executor.memory: 4g}}", "'executor.memory' is not a Spark setting"),
    ("{kind: duckdb, config: {spark.executor.memory: 4g}}", "this engine is duckdb"),
])
def test_spark_config_mistakes_say_the_fix(tmp_path: Path, engine: str, message: str) -> None:
    write(tmp_path, "tierwise.yaml", f"engine: {engine}\n" + GOOD)
    with pytest.raises(SpecError, match=message):
        load_project(tmp_path)
