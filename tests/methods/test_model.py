"""The model method: expert labels learned with cross-validated metrics, calibrated
probabilities and top factors; an outcome learned from the past; safe, versioned artifacts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataError, MethodError
from tierwise.methods import model as model_method

from .conftest import scheme

Grades = Callable[[dict[str, Any], dict[str, list[Any]]], pd.DataFrame]
ROOT = Path(__file__).resolve().parents[2]


def retail_with(tmp_path: Path, schemes: str) -> Any:
    """The retail example on 800 customers of demo data, with ``schemes`` (YAML, indented as
    entries of ``schemes:``) added to its schemes."""
    from tierwise.demo import write_retail
    from tierwise.services.grading import Project

    folder = tmp_path / "retail"
    folder.mkdir()
    text = (ROOT / "examples" / "retail" / "tierwise.yaml").read_text(encoding="utf-8")
    assert "\nschemes:\n" in text
    text = text.replace("\nschemes:\n", "\nschemes:\n" + schemes.lstrip("\n").rstrip() + "\n", 1)
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")
    write_retail(folder / "data", customers=800)
    return Project.open(folder)


def labelled(n: int = 600, seed: int = 2) -> dict[str, list[Any]]:
    """Experts call customers vip / regular / light mostly by spend and orders, with noise;
    a third of the customers have no label yet."""
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 800.0, n)
    orders = rng.poisson(spend / 400 + 1)
    noise = rng.normal(0, 300, n)
    tier = np.where(spend + noise > 2500, "vip", np.where(spend + noise > 900, "regular", "light"))
    label: list[Any] = [t if rng.random() > 0.33 else None for t in tier]
    return {"customer_id": [f"C{i:04d}" for i in range(n)], "spend": spend.tolist(),
            "orders": orders.astype(float).tolist(), "noise_feature": rng.normal(0, 1, n).tolist(),
            "expert": label}


def labels_scheme(**extra: Any) -> dict[str, Any]:
    return {"method": "model", "features": ["spend", "orders", "noise_feature"],
            "target": {"labels": "expert"}, "folds": 3,
            "tiers": [{"key": "vip"}, {"key": "regular"}, {"key": "light"}], **extra}


def test_labels_are_learned_with_honest_metrics(run_grades: Grades) -> None:
    features = labelled()
    spec = scheme(labels_scheme())
    import ibis

    fitted = model_method.fit(spec, ibis.memtable(pd.DataFrame(features)))
    metrics = fitted.metrics
    assert fitted.training["rows"] == sum(v is not None for v in features["expert"])
    assert 0.75 < metrics["balanced_accuracy"] < 1.0 and metrics["auc"] > 0.9
    assert set(metrics["per_class"]) == {"vip", "regular", "light"}
    described = dict(model_method.describe(fitted))
    assert described["3-fold cross-validation"].startswith(f"accuracy {metrics['accuracy']:.3f}")
    got = run_grades(labels_scheme(), features)
    assert set(got["tier"]) <= {"vip", "regular", "light"}
    rank = {"vip": 1, "regular": 2, "light": 3}
    assert (got["tier_rank"] == got["tier"].map(rank)).all()
    known = got[got["expert"].notna()]
    assert (known["tier"] == known["expert"]).mean() > 0.8
    # Calibrated probabilities; spend is the top factor for most, the pure-noise column for
    # few (boosted trees do split on noise a little, and occlusion shows it).
    assert got["probability"].between(0, 1).all()
    assert (got["factor1"] == "spend").mean() > 0.6
    assert (got["factor1"] == "noise_feature").mean() < 0.2
    assert got["reasons"].str.contains("top factors: spend=").any()
    assert got["reasons"].str.startswith("gradient boosting model: P(tier) ").all()
    from tierwise.i18n import use

    with use("zh-Hant"):  # reasons are worded when they are read, in the reader's language
        worded = run_grades(labels_scheme(), features)
    assert worded["reasons"].str.startswith("梯度提升模型：P(tier) ").all()


def test_a_stratified_sample_trains_and_everyone_is_graded(run_grades: Grades) -> None:
    import ibis

    features = labelled(n=3_000, seed=5)
    labelled_rows = sum(v is not None for v in features["expert"])
    fitted = model_method.fit(scheme(labels_scheme(sample=600)),
                              ibis.memtable(pd.DataFrame(features)))
    assert fitted.training["of"] == labelled_rows and 590 <= fitted.training["rows"] <= 600
    # each class keeps its share of the labelled customers, within one row
    y = np.array([v for v in features["expert"] if v is not None])
    for key, n in fitted.training["classes"].items():
        assert abs(n - np.sum(y == key) * 600 / labelled_rows) < 1
    low, high = fitted.metrics["auc_95"]
    assert low < fitted.metrics["auc"] < high and high - low < 0.1
    described = dict(model_method.describe(fitted))
    assert f"a stratified sample of {labelled_rows:,}" in described["trained on"]
    assert f"(95% {low:.3f}-{high:.3f})" in described["3-fold cross-validation"]
    # the same data give the same sample, so the model is reused by the next run
    again = model_method.fit(scheme(labels_scheme(sample=600)),
                             ibis.memtable(pd.DataFrame(features)), previous_model=fitted)
    assert again.reused
    got = run_grades(labels_scheme(sample=600), features)
    assert len(got) == 3_000 and got["tier"].notna().all()


def test_the_bootstrap_auc_counts_drawn_rows_as_repeated_rows() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    positive = rng.random(4_000) < 0.3
    scores = np.round(rng.random(4_000) + positive * 0.3, 2)  # with ties
    weight = rng.integers(0, 3, 4_000).astype(float)
    rank = np.unique(scores, return_inverse=True)[1]
    repeated = np.repeat(np.arange(4_000), weight.astype(int))
    assert model_method._weighted_auc(rank, positive, weight) == pytest.approx(
        roc_auc_score(positive[repeated], scores[repeated]), abs=1e-12)


def test_factors_measured_in_chunks_are_the_same(run_grades: Grades,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    features = labelled()
    whole = run_grades(labels_scheme(), features)
    from tierwise.methods import tree_cells

    monkeypatch.setattr(tree_cells, "CHUNK", 97)  # predictions 97 rows at a time
    chunked = run_grades(labels_scheme(), features)
    columns = ["tier", "probability", *(f"factor{i}" for i in (1, 2, 3)),
               *(f"factor{i}_effect" for i in (1, 2, 3))]
    pd.testing.assert_frame_equal(
        whole[columns].reset_index(drop=True),
        chunked[columns].reset_index(drop=True))


def test_a_rare_class_sampled_down_still_trains() -> None:
    import ibis

    rng = np.random.default_rng(3)
    n = 20_000
    spend = rng.gamma(2.0, 800.0, n)
    label = np.where(spend > 2500, "vip", "light").astype(object)
    label[:60] = "rare"
    frame = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)], "spend": spend,
                          "orders": rng.poisson(3, n).astype(float),
                          "noise_feature": rng.normal(0, 1, n), "expert": label})
    body = {**labels_scheme(sample=2_000), "folds": 5,
            "tiers": [{"key": "vip"}, {"key": "light"}, {"key": "rare"}]}
    fitted = model_method.fit(scheme(body), ibis.memtable(frame))
    assert fitted.training["classes"]["rare"] == 7  # folds + 2: every outer split keeps 5


def test_a_rare_class_is_not_sampled_away() -> None:
    x = np.arange(10_000, dtype=float).reshape(-1, 1)
    y = np.array(["rare"] * 4 + ["common"] * 9_996)
    xs, ys = model_method.stratified_sample(x, y, size=100, least=3, seed=1)
    assert int(np.sum(ys == "rare")) == 3 and len(ys) == 102
    assert list(xs[:, 0]) == sorted(xs[:, 0])  # in the rows' order
    same = model_method.stratified_sample(x, y, size=100, least=3, seed=1)
    assert np.array_equal(same[0], xs)


def test_artifacts_round_trip_and_refuse_tampering() -> None:
    import ibis

    table = ibis.memtable(pd.DataFrame(labelled(300)))
    spec = scheme(labels_scheme(algorithm="logistic"))
    fitted = model_method.fit(spec, table)
    data, digest = fitted.artifact, fitted.sha256
    assert data is not None
    assert hashlib.sha256(data).hexdigest() == digest
    again = model_method.load_artifact(data, digest)
    x = np.array([[100.0, 1.0, 0.0], [5000.0, 12.0, 0.0]])
    original = model_method._estimator_of(fitted)
    assert np.allclose(again.predict_proba(x), original.predict_proba(x))
    # One byte changed: the hash no longer matches.
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(DataError, match="changed after it was written"):
        model_method.load_artifact(bytes(tampered), digest)
    # A file whose hash matches but that holds a foreign type is refused too.
    import skops.io as sio

    foreign = sio.dumps({"estimator": pd.Timestamp("2026-01-01")})
    with pytest.raises(DataError, match="types outside scikit-learn"):
        model_method.load_artifact(foreign, hashlib.sha256(foreign).hexdigest())
    # The same training data reuses the previous artifact; a tampered one is refused.
    reused = model_method.fit(spec, table, previous_model=fitted)
    assert reused.reused is True and reused.sha256 == digest
    with pytest.raises(DataError):
        model_method.fit(spec, table,
                         previous_model=dataclasses.replace(fitted, artifact_bytes=bytes(tampered)))


def test_refusals() -> None:
    import ibis

    features = labelled(60)
    features["expert"] = ["vip" if i % 2 else "gold" for i in range(60)]
    with pytest.raises(DataError, match="not tier keys: gold"):
        model_method.fit(scheme(labels_scheme()), ibis.memtable(pd.DataFrame(features)))
    features["expert"] = ["vip"] * 58 + ["light"] * 2
    with pytest.raises(MethodError, match="has 2 training customers; 3-fold cross-validation "
                                          "with calibration needs at least 5"):
        model_method.fit(scheme(labels_scheme()), ibis.memtable(pd.DataFrame(features)))
    with pytest.raises(ValueError, match="exactly one"):
        scheme(labels_scheme(target={"labels": "expert", "outcome": "spend"}))


def test_outcome_model_in_a_run_saves_its_artifact(tmp_path: Path) -> None:
    """Retail demo data: learn who reaches the top 20% of 12-month spend from features a year
    earlier; the run writes the artifact beside run.json with its SHA-256."""
    from tierwise.services.grading import run_schemes

    project = retail_with(tmp_path, """
  likely_top:
    method: model
    features: [orders_12m, spend_12m, orders_6m, avg_order_value, tenure_days]
    target: {outcome: spend_12m, top_share: 0.2}
    folds: 3
    value: spend_12m
    tiers:
      - {key: likely, top_share: 0.2}
      - {key: maybe, top_share: 0.5}
      - {key: unlikely}
""")
    (result,) = run_schemes(project, ["likely_top"])
    info = json.loads((result.folder / "run.json").read_text(encoding="utf-8"))
    saved = info["model"]
    assert saved["kind"] == "outcome" and saved["artifact"] == {"file": "model.artifact"}
    data = (result.folder / "model.artifact").read_bytes()
    assert hashlib.sha256(data).hexdigest() == saved["sha256"]
    assert saved["metrics"]["auc"] > 0.7  # the past predicts the future top well on this data
    assert saved["training"]["classes"]["1"] > 0
    counts = {row.key: row.customers for row in result.tiers}
    assert counts["likely"] == pytest.approx(0.2 * sum(counts.values()), rel=0.05)


def test_churn_is_no_purchase_in_the_window(tmp_path: Path) -> None:
    """event: none learns who makes no order over the next 6 months; the churn tier holds the
    customers the model finds most likely to stop, and they do stop more often."""
    from tierwise.services.evaluation import evaluate

    project = retail_with(tmp_path, """
  churn:
    method: model
    features: [orders_12m, orders_6m, spend_12m, days_since_last_order, tenure_days]
    target: {outcome: orders_6m, event: none}
    algorithm: logistic
    folds: 3
    tiers:
      - {key: likely_churn, min_score: 0.6}
      - {key: watch, min_score: 0.3}
      - {key: safe}
""")
    # Graded as of 2025-12-31 (trained on 2025-06-30 -> 2025-12-31), checked on the next 6 months.
    from datetime import date

    got = evaluate(project, ["churn"], as_of=date(2025, 12, 31), horizon="6m",
                   outcome="orders_6m", top_share=0.2)
    (churn,) = got.schemes
    by_tier = {t.tier: t for t in churn.tiers}
    # The likely churners order far less in the next 6 months than the safe ones.
    assert by_tier["likely_churn"].customers > 0 and by_tier["safe"].customers > 0
    assert by_tier["likely_churn"].mean < 0.5 * by_tier["safe"].mean


def test_training_takes_the_outcome_from_the_runs_own_features(tmp_path: Path) -> None:
    """When the outcome is also a feature, the training table reads it from the run's features
    instead of aggregating the as-of date again: the same rows, labels and values."""
    from datetime import date

    from tierwise.methods.protocol import OutcomeTraining
    from tierwise.services.features import prepare_features
    from tierwise.services.project import open_engine
    from tierwise.services.training import outcome_training

    project = retail_with(tmp_path, "")
    need = OutcomeTraining(outcome="spend_12m", features=("orders_12m", "spend_12m", "tenure_days"),
                           top_share=0.2, event="top")
    day = date(2025, 12, 31)
    with open_engine(project) as engine:
        current = prepare_features(project.for_past_dates(), engine, as_of=day,
                                   indicators=["orders_12m", "spend_12m", "tenure_days"]).table
        alone = outcome_training(project, engine, need, day).to_pandas()
        shared = outcome_training(project, engine, need, day, current=current).to_pandas()
    key = "customer_id"
    alone = alone.sort_values(key).reset_index(drop=True)
    shared = shared.sort_values(key).reset_index(drop=True)
    assert len(alone) == 800 and alone["_label"].sum() > 0
    pd.testing.assert_frame_equal(alone, shared[alone.columns])


@pytest.mark.parametrize("k", [2, 3, 7])
def test_top_effects_rank_as_a_stable_sort_of_every_effect(k: int) -> None:
    """The largest effects kept as indicators are added equal a stable sort of all of them by
    size: ties keep the earlier indicator first, NaN comes last, near-zero effects are no
    factor, and fewer indicators than places leave the rest empty."""
    rng = np.random.default_rng(k)
    n = 5_000
    effects = rng.choice([0.0, 1e-12, 0.1, -0.1, 0.2, -0.3, np.nan], size=(n, k))
    effects[: n // 2] = rng.normal(0, 0.1, (n // 2, k))
    names = [f"f{j}" for j in range(k)]
    top = model_method.TopEffects(n)
    for j in range(k):
        top.add(j, effects[:, j].copy())
    got_names, got_effects = top.arrays(names)
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")
    for place in range(model_method.FACTORS):
        if place >= k:
            assert got_names[place].null_count == n
            continue
        effect = effects[np.arange(n), order[:, place]]
        none = np.abs(effect) <= 1e-9
        want = [None if z else names[j] for z, j in zip(none, order[:, place], strict=True)]
        assert got_names[place].to_pylist() == want
        kept = got_effects[place].to_numpy(zero_copy_only=False)
        assert np.array_equal(kept[~none], effect[~none], equal_nan=True)


def test_the_fitted_model_is_described_in_the_readers_language() -> None:
    """The run summary and the dashboard's model section: the sample, the classes of an outcome
    in words and the AUC's interval, in English and in Chinese."""
    from tierwise import i18n
    from tierwise.methods import wording
    from tierwise.methods.fitted import ClassifierModel

    target = {"outcome": "spend_12m", "event": "top", "top_share": 0.2}
    fitted = ClassifierModel(
        kind="outcome", settings={}, classes=["0", "1"],
        training={"rows": 200_000, "of": 10_000_000, "classes": {"0": 150_000, "1": 50_000},
                  "target": target},
        metrics={"folds": 5, "accuracy": 0.8, "balanced_accuracy": 0.7, "auc": 0.728,
                 "auc_95": [0.725, 0.731], "log_loss": 0.4},
        medians=[], sha256="ab" * 32, artifact_bytes=None)
    trained, scores, _artifact = model_method.describe(fitted)
    assert trained == ("trained on", "200,000 customers, a stratified sample of 10,000,000 "
                                     "(50,000 reached the top 20% of spend_12m in the window "
                                     "that followed, 150,000 did not)")
    assert scores == ("5-fold cross-validation", "accuracy 0.800, balanced accuracy 0.700, "
                      "AUC 0.728 (95% 0.725-0.731), log loss 0.400")
    with i18n.use("zh-Hans"):
        trained, scores, _artifact = model_method.describe(fitted)
    assert trained == ("训练数据", "200,000 位客户，为 10,000,000 位客户的分层抽样"
                                 "（其后的时间窗内spend_12m进入前 20% 的 50,000 位，未进入的 150,000 位）")
    assert scores[0] == "5 折交叉验证" and "AUC 0.728（95% 区间 0.725-0.731）" in scores[1]
    with i18n.use("zh-Hant"):
        assert model_method.describe(fitted)[0][0] == "訓練資料"
    churn = dataclasses.replace(fitted, training={
        **fitted.training, "target": {**target, "outcome": "orders_6m", "event": "none"}})
    with wording.indicator_labels({"orders_6m": "orders, 6 months"}):
        assert model_method.describe(churn)[0][1].endswith(
            "(50,000 with orders, 6 months = 0 over the window that followed, 150,000 above 0)")
    saved_before = dataclasses.replace(fitted, training={
        k: v for k, v in fitted.training.items() if k != "target"})
    assert model_method.describe(saved_before)[0][1].endswith(
        "(50,000 with the outcome, 150,000 without)")
    labelled = dataclasses.replace(fitted, kind="labels",
                                   training={"rows": 90, "classes": {"gold": 30, "silver": 60}})
    assert model_method.describe(labelled)[0] == ("trained on", "90 customers (gold 30, silver 60)")
