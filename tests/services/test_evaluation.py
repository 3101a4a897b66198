"""``evaluate`` on the hand-made months project: grades as of T against (T, T + 3m], by hand.

As of 2025-05-31 the 3-month window is March to May 2025: C1 and C2 ordered every month (gold),
C3's four orders were in January (bronze). C4 and C5 had no order by then and are not evaluated.
June to August 2025: C1 orders each month (300), C2 in June only (100), C3 never (0). The future
top 20% of three customers is C1 alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierwise.cli.main import app
from tierwise.errors import DataError, SpecError
from tierwise.services.evaluation import BASELINE, evaluate
from tierwise.services.grading import Project

T = date(2025, 5, 31)


@pytest.fixture
def project(months: Path) -> Project:
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "indicators:\n", "indicators:\n  last_order_days: {source: transactions, "
        "agg: days_since_last}\n"), encoding="utf-8")
    return Project.open(months)


def test_scheme_and_baseline_by_hand(project: Project) -> None:
    got = evaluate(project, ["tier"], as_of=T, horizon="3m", outcome="spend_3m")
    assert (got.end, got.customers, got.future_top, got.cut) == (date(2025, 8, 31), 3, 1, 300)
    (tier,) = got.schemes
    assert (tier.top_tier, tier.top_tier_customers, tier.precision, tier.recall) == (
        "gold", 2, 0.5, 1.0)
    assert tier.auc == 0.75 and tier.spearman == pytest.approx(1.5 / 3 ** 0.5)
    gold = tier.tiers[0]
    assert (gold.tier, gold.customers, gold.value, gold.lift) == ("gold", 2, 400.0, 1.5)
    # Recency as of T: C1 and C2 16 days, C3 136 days. The ties share R1.
    base = got.baseline
    assert base.name == BASELINE and base.ordered_by == "score"
    assert [(t.tier, t.customers) for t in base.tiers if t.customers] == [("R1", 2), ("R4", 1)]
    assert (base.precision, base.recall, base.auc) == (0.5, 1.0, 0.75)


def test_refusals_say_what_to_do(project: Project) -> None:
    # An outcome declared over 3 months is measured over the horizon: June to November 2025,
    # where C1 ordered every month (600).
    longer = evaluate(project, ["tier"], as_of=T, horizon="6m", outcome="spend_3m")
    assert (longer.end, longer.cut, longer.future_top) == (date(2025, 11, 30), 600, 1)
    with pytest.raises(SpecError, match="must be an aggregate"):
        evaluate(Project(project.spec.model_copy(update={"indicators": {
            **project.spec.indicators, "spend_3m": {"expr": "orders_3m * 2"}}}), project.root),
            ["tier"], as_of=T, horizon="3m", outcome="spend_3m")
    with pytest.raises(SpecError, match="not an indicator"):
        evaluate(project, ["tier"], as_of=T, horizon="3m", outcome="nope")
    with pytest.raises(DataError, match=r"last event is on 2026-06-15.*incomplete"):
        evaluate(project, ["tier"], as_of=date(2026, 5, 31), horizon="3m", outcome="spend_3m")
    with pytest.raises(SpecError, match="--horizon"):
        evaluate(project, ["tier"], as_of=T, horizon="soon", outcome="spend_3m")
    with pytest.raises(SpecError, match="days_since_last"):
        evaluate(Project(project.spec.model_copy(update={"indicators": {
            k: v for k, v in project.spec.indicators.items() if k != "last_order_days"}}),
            project.root), ["tier"], as_of=T, horizon="3m", outcome="spend_3m")


def test_cli_writes_table_json_html_png(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "evaluate", "tier", "steady", "-p", str(project.root), "--as-of", T.isoformat(),
        "--horizon", "3m", "--outcome", "spend_3m", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Schemes against the future" in result.output and "recency" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "evaluation.html", "evaluation.json", "evaluation.png"]
    html = (out / "evaluation.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and "Cumulative gains" in html
    assert (out / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(app, ["evaluate", "tier", "-p", str(project.root),
                                   "--as-of", T.isoformat()])
    assert bad.exit_code == 2 and "--outcome" in bad.output
