"""The CDNOW project: its data from the lifetimes package, and its indicators against the
published customer summaries (frequency, recency and age in weeks at the end of week 39)."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from tierwise.demo.cdnow import cdnow_file, write_cdnow
from tierwise.errors import DataError
from tierwise.services.features import prepare_features
from tierwise.services.project import Project, open_engine

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cdnow" / "tierwise.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("cdnow")
    shutil.copy(EXAMPLE, folder / "tierwise.yaml")
    assert write_cdnow(folder / "data") == (2357, 6919)
    return Project.open(folder)


def test_indicators_match_the_published_summary(project: Project) -> None:
    with open_engine(project) as engine:
        features = prepare_features(
            project, engine, as_of=date(1997, 9, 30),
            indicators=["purchase_days", "days_since_first", "days_since_last"]).table
        rows = {r["customer_id"]: r for r in engine.to_arrow(features).to_pylist()}
    with cdnow_file("cdnow_customers_summary.csv").open(encoding="ascii") as handle:
        published = list(csv.DictReader(handle))
    assert len(published) == len(rows) == 2357
    for p in published:
        ours = rows[f"C{int(p['ID']):04d}"]
        assert ours["purchase_days"] - 1 == int(p["frequency"]), p
        weeks = (ours["days_since_first"] - ours["days_since_last"]) / 7
        assert round(weeks, 2) == pytest.approx(float(p["recency"]), abs=0.006), p
        assert round(ours["days_since_first"] / 7, 2) == pytest.approx(float(p["T"]), abs=0.006)


def test_a_malformed_file_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "cdnow.txt"
    bad.write_text(" 00001 0001 19970101  1   11.77\n 00002 0002 19970112 1\n", encoding="ascii")
    with pytest.raises(DataError, match=r"cdnow.txt:2: expected 5 fields"):
        write_cdnow(tmp_path / "data", source=bad)


def test_clv_scheme_reproduces_the_published_bgnbd(project: Project) -> None:
    """Through tierwise's own indicators: r, alpha, a, b of FHL 2005 (0.243, 4.414, 0.793,
    2.426) within 1%, the same figures the fitter tests reach from lifetimes' summary file."""
    from tierwise.methods import fit
    from tierwise.methods.fitted import ClvModel

    scheme = project.scheme("clv")
    with open_engine(project) as engine:
        from tierwise import methods

        features = prepare_features(project, engine, as_of=date(1997, 9, 30),
                                    indicators=methods.scheme_indicators(scheme)).table
        model = fit(scheme, engine.materialize("f", features), as_of=date(1997, 9, 30))
    assert isinstance(model, ClvModel)
    got = model.transactions.params
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert got[name] == pytest.approx(published, rel=0.01), name
    assert model.customers == 2357 and model.repeat_buyers == 946
    # 1,411 of 2,357 buyers made no repeat purchase (CDNOW's cohort: 60%)
    assert model.one_time == pytest.approx(1411 / 2357)


def test_the_documented_evaluation_is_what_evaluate_gives(project: Project) -> None:
    """docs/evaluation.md's CDNOW table and docs/evaluation/cdnow/evaluation.json come from
    this evaluation: a change that moves a figure must update the docs."""
    import json

    from tierwise.services.evaluation import evaluate

    docs = Path(__file__).resolve().parents[2] / "docs"
    got = evaluate(project, ["value", "rfm", "clv"], as_of=date(1997, 9, 30), horizon="39w",
                   outcome="spend_39w")
    text = (docs / "evaluation.md").read_text(encoding="utf-8")
    saved = json.loads((docs / "evaluation" / "cdnow" / "evaluation.json").read_text("utf-8"))
    assert (got.customers, got.future_top) == (saved["customers"], saved["future_top"]) == (
        2357, 472)
    for s, stored in zip([*got.schemes, got.baseline],
                         [*saved["schemes"], saved["baseline"]], strict=True):
        assert s.precision is not None and s.recall is not None and s.auc is not None
        row = (f"| {s.top_tier} | {s.top_tier_customers} | {s.precision:.1%} | "
               f"{s.recall:.1%} | {s.auc:.3f} | {s.gini:.3f} | {s.spearman:.3f} |")
        assert row in text, row
        assert stored["auc"] == pytest.approx(s.auc, abs=1e-9), s.name


def test_a_run_prints_the_fitted_model(project: Project) -> None:
    from typer.testing import CliRunner

    from tierwise.cli.main import app

    result = CliRunner().invoke(app, ["run", "clv", "-p", str(project.root), "--force"])
    assert result.exit_code == 0, result.output
    assert "Fitted model" in result.output and "r 0.2426 (se 0.013)" in result.output
    assert "946 repeat buyers" in result.output and "P(alive) = 1" in result.output


def test_the_api_and_the_overview_show_the_fitted_model(project: Project) -> None:
    from fastapi.testclient import TestClient

    from tierwise.api.app import create_app
    from tierwise.services import runs
    from tierwise.store import users as store_users

    runs.run(project, ["clv"], force=True)
    with TestClient(create_app(project.root), follow_redirects=False) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        with store.begin() as conn:
            if not any(u.username == "aud" for u in store_users.listing(conn)):
                store_users.create(conn, "aud", role="auditor", password="long enough pass",
                                   actor="setup")
            _, secret = store_users.new_token(conn, "aud", "test", actor="setup")
        headers = {"Authorization": f"Bearer {secret}"}
        (latest, *_) = reversed(client.get("/api/v1/schemes/clv/runs", headers=headers).json())
        lines = client.get(f"/api/v1/runs/{latest['id']}", headers=headers).json()["model"]
        assert lines[1]["label"] == "BG/NBD" and lines[1]["text"].startswith("r 0.2426")
        login = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        client.post("/login", data={"username": "aud", "password": "long enough pass",
                                    "csrf": csrf.group(1)})
        page = client.get("/overview", params={"scheme": "clv"}).text
        assert "Fitted model" in page and '<th scope="row">Gamma-Gamma</th>' in page
