"""Typed fitted models: their JSON form keeps run.json's keys and order, and reads back."""

from __future__ import annotations

import json

from tierwise import methods
from tierwise.methods.fitted import ClassifierModel, ClusterModel, ClvModel, LifetimeFit
from tierwise.spec.models import ClusterSchemeSpec, ClvSchemeSpec

CLUSTER = ClusterModel(
    algorithm="kmeans", covariance=None, k=2, seed=0, scale="standard", value="spend",
    chosen_by={"criterion": "fixed", "tried": [{"k": 2, "inertia": 1.5, "iterations": 3}]},
    init="k-means++", rows={"customers": 10, "fitted": 10},
    features=[{"indicator": "spend", "transform": "none", "fill": 0.0, "centre": 1.0,
               "scale": 2.0}],
    clusters=[{"key": "c1", "tier_rank": 1, "value_rank": 1, "previous": None, "size": 5,
               "centroid": [1.0]}, {"key": "c2", "tier_rank": 2, "value_rank": 2,
                                    "previous": None, "size": 5, "centroid": [-1.0]}],
    previous={"used": False, "note": "no previous model: clusters keyed by value order"})
FIT = LifetimeFit(params={"r": 0.24, "alpha": 4.4}, standard_errors={"r": 0.01, "alpha": 0.2},
                  covariance_log=[[0.1, 0.0], [0.0, 0.2]], log_likelihood=-9582.4)
CLASSIFIER = ClassifierModel(
    kind="outcome", settings={"algorithm": "logistic", "folds": 5}, classes=["0", "1"],
    training={"rows": 100, "fingerprint": "abc", "classes": {"0": 80, "1": 20}},
    metrics={"folds": 5, "accuracy": 0.9}, medians=[1.0, 2.0], sha256="f" * 64,
    artifact_bytes=b"skops", reused=False)


def test_the_json_forms_keep_the_historic_keys_in_order() -> None:
    assert list(CLUSTER.to_json()) == [
        "method", "version", "algorithm", "covariance", "k", "seed", "scale", "value",
        "chosen_by", "init", "rows", "features", "clusters", "previous"]
    clv = ClvModel(model="bgnbd", unit_days=7, customers=50, repeat_buyers=20,
                   transactions=FIT, spend=FIT, notes=("a note",))
    assert list(clv.to_json()) == ["model", "unit_days", "customers", "repeat_buyers",
                                   "transactions", "spend", "notes", "one_time"]
    assert list(clv.to_json()["spend"]) == ["params", "standard_errors", "covariance_log",
                                            "log_likelihood"]
    saved = CLASSIFIER.to_json(artifact_file="model.artifact")
    assert list(saved) == ["kind", "settings", "classes", "training", "metrics", "medians",
                           "sha256", "artifact", "reused"]
    assert saved["artifact"] == {"file": "model.artifact"}
    assert "artifact" not in CLASSIFIER.to_json()


def test_models_read_back_from_run_json_equal() -> None:
    clv = ClvModel(model="paretonbd", unit_days=7, customers=50, repeat_buyers=20,
                   transactions=FIT, spend=FIT)
    for model in (CLUSTER, clv):
        text = json.dumps(model.to_json())
        assert type(model).from_json(json.loads(text)) == model
    text = json.dumps(CLASSIFIER.to_json(artifact_file="model.artifact"))
    assert ClassifierModel.from_json(json.loads(text), b"skops") == CLASSIFIER
    # Another method's JSON, or a broken one, is no model of this kind.
    assert ClusterModel.from_json(clv.to_json()) is None
    assert ClvModel.from_json({"model": "bgnbd"}) is None
    assert ClassifierModel.from_json({**CLASSIFIER.to_json(), "kind": "other"}) is None


def test_describe_model_takes_a_model_or_its_json() -> None:
    scheme = ClusterSchemeSpec.model_validate({
        "method": "cluster", "indicators": ["spend"], "k": 2, "value": "spend"})
    lines = methods.describe_model(scheme, CLUSTER)
    assert lines == methods.describe_model(scheme, CLUSTER.to_json())
    assert lines[0] == ("clusters", "k-means, k = 2 given")
    # A model of another method describes nothing rather than failing.
    clv_scheme = ClvSchemeSpec.model_validate({
        "method": "clv", "purchases": "p", "first": "f", "last": "l", "spend": "s",
        "tiers": [{"key": "a", "min_score": 1}, {"key": "b"}]})
    assert methods.describe_model(clv_scheme, CLUSTER) == []


def test_a_clv_note_is_said_in_the_readers_language_and_an_old_one_as_saved() -> None:
    """New fits keep the share of one-time buyers and say the note when read; a model saved
    before kept its note as text, which is shown as it is."""
    from tierwise import i18n
    from tierwise.methods import clv as clv_method

    fitted = ClvModel(model="bgnbd", unit_days=7, customers=50, repeat_buyers=20,
                      transactions=FIT, spend=FIT, one_time=0.19)
    back = ClvModel.from_json(fitted.to_json())
    assert back == fitted
    assert dict(clv_method.describe(fitted))["note"].startswith(
        "19% of buyers have no repeat purchase")
    with i18n.use("zh-Hant"):
        lines = dict(clv_method.describe(fitted))
    assert lines["備註"].startswith("19% 的購買客戶沒有回購")
    assert lines["客戶數"] == "50 位有購買，20 位回購"
    older = ClvModel(model="bgnbd", unit_days=7, customers=50, repeat_buyers=20,
                     transactions=FIT, spend=FIT, notes=("as saved before",))
    with i18n.use("zh-Hans"):
        assert dict(clv_method.describe(older))["备注"] == "as saved before"
