"""The example projects: they parse, say what the docs promise, and read the generated files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tierwise import expr
from tierwise.demo import write_b2b, write_bank, write_retail
from tierwise.spec import (
    AbcSchemeSpec,
    ProjectSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    ScorecardSchemeSpec,
    load_project,
    read_yaml,
)

from .conftest import read

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["retail", "bank", "b2b", "linked"]
WRITERS = {"retail": write_retail, "bank": write_bank, "b2b": write_b2b}


def _plain(node: object) -> object:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


@pytest.mark.parametrize("name", NAMES)
def test_example_loads_with_every_check(name: str) -> None:
    project, root = load_project(EXAMPLES / name)
    assert root == EXAMPLES / name
    assert str(project.as_of) == "2026-06-30"
    assert project.schemes


@pytest.mark.parametrize("name", NAMES)
def test_example_is_a_plain_project_spec(name: str) -> None:
    # The models alone accept the document (no loader-specific leniency), once the loader read
    # in the factor tables and calendars a risk scheme keeps in CSV files.
    from tierwise.spec.risk import inline_files

    doc = _plain(read_yaml(EXAMPLES / name / "tierwise.yaml").doc)
    for key, body in doc["schemes"].items():
        if body["method"] == "risk":
            doc["schemes"][key], problems = inline_files(body, EXAMPLES / name)
            assert not problems
    assert isinstance(ProjectSpec.model_validate(doc), ProjectSpec)


@pytest.mark.parametrize("name", NAMES)
def test_every_tier_has_both_labels_and_a_strategy(name: str) -> None:
    project, _ = load_project(EXAMPLES / name)
    for scheme_name, scheme in project.schemes.items():
        assert scheme.value, f"{scheme_name}: no value indicator"
        assert scheme.label and scheme.label.en and scheme.label.zh, scheme_name
        for tier in scheme.tiers or []:
            where = f"{name}.{scheme_name}.{tier.key}"
            assert tier.label is not None and tier.label.en and tier.label.zh, where
            assert tier.strategy, where


def test_rfm_tiers_relabel_every_segment_of_their_map() -> None:
    from tierwise.methods import rfm

    project, _ = load_project(EXAMPLES / "retail")
    for name in ("rfm", "rfm_cn"):
        scheme = project.schemes[name]
        assert isinstance(scheme, RfmSchemeSpec)
        keys = [s.key for s in rfm.segment_map(scheme)]
        assert [t.key for t in scheme.tiers or []] == keys, name


def test_retail_value_rules_are_exactly_the_business_rules() -> None:
    project, _ = load_project(EXAMPLES / "retail")
    scheme = project.schemes["value"]
    assert isinstance(scheme, RulesSchemeSpec)
    expected = [
        ("high", "orders_12m >= 10 and spend_12m >= 10000"),
        ("medium", "(orders_12m between 5 and 9 and spend_12m between 5000 and 9999)"
                   " or (orders_12m >= 10 and spend_12m < 10000)"),
        ("low", "orders_12m between 1 and 4 and spend_12m < 5000"),
        ("churn_risk", "orders_6m == 0"),
    ]
    rules = [(t.key, t.when) for t in scheme.tiers if t.when]
    assert [k for k, _ in rules] == [k for k, _ in expected]
    for (_, when), (key, want) in zip(rules, expected, strict=True):
        assert when is not None
        assert expr.parse(when) == expr.parse(want), key
    assert scheme.fallback == "unclassified"
    fallback = scheme.tiers[-1]
    assert fallback.key == "unclassified" and fallback.label is not None
    assert fallback.label.zh == "未分类"


def test_retail_transactions_declare_refunds() -> None:
    project, _ = load_project(EXAMPLES / "retail")
    orders = project.sources["transactions"]
    assert orders.path == "data/orders.csv"
    assert orders.refunds is not None and expr.parse(orders.refunds) == expr.parse(
        "kind == 'refund'")
    assert orders.columns["amount"].nonnegative


def test_b2b_schemes_match_the_brief() -> None:
    project, _ = load_project(EXAMPLES / "b2b")
    abc = project.schemes["abc"]
    assert isinstance(abc, AbcSchemeSpec)
    assert (abc.value, abc.by) == ("annual_purchases", "value")
    assert [t.cumulative for t in abc.tiers] == [0.8, 0.95, None]
    grade = project.schemes["grade"]
    assert isinstance(grade, ScorecardSchemeSpec)
    weights = {d.indicator: d.weight for d in grade.dimensions}
    assert weights == {"annual_purchases": 0.35, "margin_12m": 0.25, "years_cooperation": 0.15,
                       "referrals_24m": 0.10, "strategic_fit": 0.15}
    assert [t.key for t in grade.tiers] == ["vip", "important", "potential", "ordinary",
                                            "low_value"]
    assert [t.label.zh for t in grade.tiers if t.label] == [
        "VIP客户", "重要客户", "潜力客户", "普通客户", "低价值客户"]


@pytest.mark.parametrize("name", list(WRITERS))  # linked: test_linked_grading.py
def test_sources_point_at_the_generated_files(name: str, tmp_path: Path) -> None:
    project, _ = load_project(EXAMPLES / name)
    WRITERS[name](tmp_path / "data", **({"accounts": 300} if name == "b2b" else
                                        {"customers": 300}))
    for source_name, source in project.sources.items():
        assert source.path is not None and source.path.startswith("data/"), source_name
        frame = read(tmp_path, source.path)
        declared = {col.from_ or col_name for col_name, col in source.columns.items()}
        assert declared == set(frame.columns), source_name


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WRITERS))  # linked: test_linked_grading.py
def test_example_grades_the_demo_data(name: str, tmp_path: Path) -> None:
    """Examples are tests: every scheme runs on the generated data and fills its tiers."""
    from tierwise.services.demo import copy_example
    from tierwise.services.grading import Project, run

    copy_example(name, tmp_path)
    WRITERS[name](tmp_path / "data")
    project = Project.open(tmp_path)
    for scheme_name, scheme in project.spec.schemes.items():
        result = run(project, scheme_name)
        expected = {"retail": 5000, "bank": 3000, "b2b": 600}[name]
        assert result.customers == expected
        empty = [t.key for t in result.tiers if t.customers == 0]
        # A quantile RFM map may leave a rare cell empty on some data (new customers need the
        # lowest F and M scores); every other scheme's tiers must all be filled.
        allowed = 2 if isinstance(scheme, RfmSchemeSpec) else 0
        assert len(empty) <= allowed, f"{name}.{scheme_name}: empty tiers {empty}"


@pytest.mark.slow
def test_the_retail_demo_plants_a_winback_effect_the_kpi_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo data's win-back effect: customers the email reached buy again more often than
    its control group, and the pooled effect's interval says so; the control group is the
    action's own hash, the same on every run."""
    from tierwise.demo.generate import (
        WINBACK_ACTION,
        WINBACK_HOLDOUT,
        WINBACK_RESPONSE,
        graded_month_ends,
    )
    from tierwise.services import effects, runs
    from tierwise.services.grading import Project
    from tierwise.spec.actions import holdout_point

    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    shutil.copyfile(EXAMPLES / "retail" / "tierwise.yaml", tmp_path / "tierwise.yaml")
    write_retail(tmp_path / "data", customers=3000)
    project = Project.open(tmp_path)
    action = project.spec.actions[WINBACK_ACTION]
    assert action.holdout == WINBACK_HOLDOUT and action.effect is not None
    runs.backfill(project, ["value"], graded_month_ends())
    store = runs.open_store(project)
    try:
        found = effects.effect(project, store, WINBACK_ACTION, action.effect.outcome,
                               rate=action.effect.rate, pooled=True)
        with store.read() as tx:
            held = tx.actions.entries(WINBACK_ACTION, status="holdout", limit=100_000)
    finally:
        store.close()
    assert found.runs == 6 and found.holdout.customers >= 40
    assert all(holdout_point(WINBACK_ACTION, e.customer_id) < WINBACK_HOLDOUT for e in held)
    assert found.low is not None and found.high is not None and found.uplift is not None
    assert 0.1 < found.low < found.uplift < found.high <= WINBACK_RESPONSE + 0.1
    assert (found.holdout.mean or 0) < 0.1
