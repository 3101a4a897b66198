"""The ``model`` method: supervised classification of customers with scikit-learn.

Two kinds of target:

* ``labels``: an indicator holding expert-assigned tier keys (e.g. a CRM column). Customers with
  a label train the model; every customer is then graded with the most probable tier.
* ``outcome``: an aggregate indicator whose window is the horizon (``spend_12m``). The model
  learns, from the features as of T - horizon, who turned out to be in the top ``top_share`` of
  the outcome by T; it then scores every customer's probability of being there in the next
  horizon from today's features, and tiers cut that probability like a scorecard. With
  ``event: none`` it learns who had none of the outcome instead: a supervised churn
  probability for a churn defined as "no purchase in the window". The service builds this
  training table (:func:`tierwise.services.pipeline.grade_scheme`).

Gradient boosting (scikit-learn's histogram gradient boosting, which takes missing values as
they are) or logistic regression (median imputation, standard scaling). One model is fitted on
all training rows; its probabilities are calibrated (sigmoid or isotonic) on cross-validated
predictions. Cross-validated metrics come from out-of-fold predictions. Each customer's top
factors are measured by occlusion: how much the probability of their tier falls when one
indicator is set to the training median. Gradient boosting predicts once per cell of customers
it cannot tell apart (:mod:`tierwise.methods.tree_cells`): the same figures, five to ten times
fewer predictions.

The fitted model is a versioned artifact: serialised with skops (no pickle), identified by its
SHA-256, saved beside the run, with the fingerprint of its training data. Loading checks the hash
first and then allows scikit-learn and NumPy types only, so an edited or foreign file is refused.
A run whose training data did not change reuses the previous run's artifact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tierwise.errors import DataError, MethodError
from tierwise.i18n import _
from tierwise.methods import criteria, wording
from tierwise.methods.base import concat, cut_by_score, drop_lead, fmt, select_grades
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import LearningMethod
from tierwise.methods.fitted import ClassifierModel, FittedModel
from tierwise.methods.protocol import OutcomeTraining
from tierwise.methods.tree_cells import CellPredictor
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.models import ModelSchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import TierSpec

Floats = npt.NDArray[np.float64]
LABEL = "_label"
FACTORS = 3
# Module prefixes of the types a model artifact may contain.
TRUSTED = ("sklearn.", "numpy.", "builtins.", "scipy.")


def tiers(scheme: ModelSchemeSpec) -> list[TierSpec]:
    """The scheme's tiers, best first."""
    return list(scheme.tiers)


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError:
        raise MethodError(_("the model method needs scikit-learn: pip install 'tierwise[ml]'; "
                            "or use method: rules or scorecard")) from None
    return sklearn


def _matrix(table: ir.Table, names: list[str], extra: list[str]) -> tuple[Any, Floats, Any]:
    """Customer ids, the features as a float matrix (NaN for missing), and ``extra`` columns."""
    cols = [table[n].cast("float64").name(n) for n in names]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
        arrow = table.select(CUSTOMER, *cols, *extra).order_by(CUSTOMER).to_pyarrow()
    x = np.column_stack([arrow[n].to_numpy(zero_copy_only=False).astype(np.float64)
                         for n in names]) if names else np.zeros((arrow.num_rows, 0))
    return arrow[CUSTOMER].combine_chunks(), x, arrow


def _estimator(scheme: ModelSchemeSpec) -> Any:
    _sklearn()
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if scheme.algorithm == "gradient_boosting":
        base: Any = HistGradientBoostingClassifier(random_state=scheme.seed, max_iter=200)
    else:
        base = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                             LogisticRegression(max_iter=2000))
    # One model fitted on all rows, calibrated on cross-validated predictions (ensemble=False):
    # predicting costs one model, not one per fold (5x at 1M customers, measured).
    return CalibratedClassifierCV(base, method=scheme.calibration, cv=scheme.folds,
                                  ensemble=False)


def training_fingerprint(x: Floats, y: npt.NDArray[Any]) -> str:
    """SHA-256 of the training matrix and labels: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(x).tobytes())
    digest.update("\x1f".join(map(str, y.tolist())).encode("utf-8"))
    return digest.hexdigest()


def dump_artifact(estimator: Any) -> tuple[bytes, str]:
    """The estimator serialised with skops, and the SHA-256 of those bytes."""
    import skops.io as sio

    data: bytes = sio.dumps(estimator)
    return data, hashlib.sha256(data).hexdigest()


def load_artifact(data: bytes, sha256: str) -> Any:
    """An estimator from skops bytes, refused unless the hash matches and every type is trusted.

    Raises:
        DataError: the bytes are not the artifact recorded (edited, truncated, swapped), or they
            hold a type outside scikit-learn, NumPy and SciPy.
    """
    import skops.io as sio

    seen = hashlib.sha256(data).hexdigest()
    if seen != sha256:
        raise DataError(_("model artifact refused: its SHA-256 is {seen}..., the run recorded "
                          "{sha256}...; the file was changed after it was written. Grade again "
                          "to train a new model").format(seen=seen[:12], sha256=sha256[:12]))
    try:
        unknown = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises several kinds on a damaged archive
        raise DataError(_("model artifact refused: it is not a readable skops file ({exc})").format(
            exc=exc)) from None
    bad = [t for t in unknown if not t.startswith(TRUSTED)]
    if bad:
        raise DataError(_("model artifact refused: it holds types outside scikit-learn and "
                          "NumPy ({types}); train the model again").format(
                              types=', '.join(sorted(bad)[:3])))
    return sio.loads(data, trusted=unknown)


def _training(scheme: ModelSchemeSpec, features: ir.Table, training: ir.Table | None
              ) -> tuple[Floats, npt.NDArray[Any]]:
    """The training matrix and labels (tier keys, or 1/0 for the outcome's top)."""
    keys = [t.key for t in scheme.tiers]
    if scheme.target.labels:
        column = scheme.target.labels
        labelled = features.filter(features[column].notnull())
        _ids, x, arrow = _matrix(labelled, scheme.features, [column])
        y = np.asarray(arrow[column].to_pylist(), dtype=object).astype(str)
        unknown = sorted(set(y.tolist()) - set(keys))
        if unknown:
            raise DataError(_("model: labels in {column!r} that are not tier keys: {labels}; "
                              "tiers are {tiers}. Map the labels to tier keys, or add the "
                              "tiers").format(column=column, labels=', '.join(unknown[:5]),
                                tiers=', '.join(keys)))
    else:
        if training is None:
            raise MethodError(_("model: an outcome target needs the training table the service "
                                "builds (features as of T - horizon with the realised outcome)"))
        _ids, x, arrow = _matrix(training, scheme.features, [LABEL])
        y = np.asarray(arrow[LABEL].to_pylist(), dtype=np.int64)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise MethodError(_("model: the training data hold one class only ({classes}); a "
                            "classifier needs customers of at least two tiers. Use method: "
                            "rules").format(classes=classes.tolist()))
    if counts.min() < least_per_class(scheme.folds):
        small = classes[int(np.argmin(counts))]
        raise MethodError(
            _("model: class {small!r} has {n} training customers; {folds}-fold "
              "cross-validation with calibration needs at least {need}: label more customers, "
              "lower `folds`, or use method: rules").format(
                  small=small, n=int(counts.min()), folds=scheme.folds,
                  need=least_per_class(scheme.folds)))
    return x, y


def least_per_class(folds: int) -> int:
    """The fewest customers of a class that cross-validated calibration can train on.

    Each of the ``folds`` outer training splits leaves out about a fold of every class, and the
    calibration inside it splits that again into ``folds``: ``folds + 2`` keeps at least
    ``folds`` of the class in every outer split.
    """
    return folds + 2


def fit(scheme: ModelSchemeSpec, features: ir.Table, *, training: ir.Table | None = None,
        previous_model: FittedModel | None = None) -> ClassifierModel:
    """Train (or reuse) the classifier; the model with metrics, medians and the artifact bytes.

    The artifact (the skops file) is written beside the run by the service, which keeps
    ``sha256`` and the rest in ``run.json``; a previous model comes back with its bytes.
    """
    x, y = _training(scheme, features, training)
    available = len(y)
    x, y = stratified_sample(x, y, size=scheme.sample, least=least_per_class(scheme.folds),
                             seed=scheme.seed)
    fingerprint = training_fingerprint(x, y)
    settings = {"algorithm": scheme.algorithm, "calibration": scheme.calibration,
                "folds": scheme.folds, "seed": scheme.seed, "features": list(scheme.features),
                "sample": scheme.sample}
    medians = [float(v) if np.isfinite(v) else 0.0 for v in np.nanmedian(
        np.where(np.isfinite(x), x, np.nan), axis=0)] if len(x) else []
    if (isinstance(previous_model, ClassifierModel)
            and previous_model.training.get("fingerprint") == fingerprint
            and previous_model.settings == settings
            and previous_model.artifact_bytes is not None):
        load_artifact(previous_model.artifact_bytes, previous_model.sha256)  # still intact
        return dataclasses.replace(previous_model, reused=True)
    estimator = _estimator(scheme)
    metrics = _cross_validated(scheme, estimator, x, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        estimator.fit(x, y)
    data, digest = dump_artifact(estimator)
    classes, counts = np.unique(y, return_counts=True)
    return ClassifierModel(
        kind="labels" if scheme.target.labels else "outcome",
        settings=settings,
        classes=[str(c) for c in estimator.classes_],
        training={"rows": len(y), "of": available, "fingerprint": fingerprint,
                  "classes": {str(c): int(n) for c, n in zip(classes, counts, strict=True)},
                  **({"target": {"outcome": scheme.target.outcome, "event": scheme.target.event,
                                 "top_share": scheme.target.top_share}}
                     if scheme.target.outcome else {})},
        metrics=metrics,
        medians=medians,
        sha256=digest,
        artifact_bytes=data,
        reused=False,
    )


def stratified_sample(x: Floats, y: npt.NDArray[Any], *, size: int, least: int, seed: int
                      ) -> tuple[Floats, npt.NDArray[Any]]:
    """At most ``size`` rows (all when fewer), each class in its share, in the rows' order.

    Every class keeps at least ``least`` rows (:func:`least_per_class`) or all it has, so a
    rare tier is not sampled away; the draw is seeded, so the same data give the same sample.
    """
    if len(y) <= size:
        return x, y
    rng = np.random.default_rng(seed)
    _classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = np.maximum(np.minimum(counts, least), np.floor(counts * size / len(y))).astype(int)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(inverse == i), size=int(n), replace=False)
        for i, n in enumerate(share)])
    keep.sort()
    return x[keep], y[keep]


def _interval(y: npt.NDArray[Any], proba: Floats, classes: npt.NDArray[Any], *, seed: int,
              rounds: int = 200) -> tuple[float, float]:
    """The 95% bootstrap interval of the out-of-fold AUC (percentiles of ``rounds`` resamples).

    A resample missing a class is drawn again (it has no AUC); each class is resampled within
    itself, so every resample keeps the sample's class shares.
    """
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(y == c) for c in classes]
    scored = [1] if len(classes) == 2 else list(range(len(classes)))
    # Per scored class: its scores' ranks among distinct values, sorted once for every round.
    ranks = [np.unique(proba[:, c], return_inverse=True)[1] for c in scored]
    values = []
    for _round in range(rounds):
        weight = np.zeros(len(y))
        for m in members:  # how often each row is drawn, class by class
            weight += np.bincount(rng.choice(m, size=len(m), replace=True), minlength=len(y))
        aucs = [_weighted_auc(r, y == classes[c], weight) for r, c in zip(ranks, scored,
                                                                           strict=True)]
        values.append(float(np.mean(aucs)))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _weighted_auc(rank: npt.NDArray[np.int64], positive: npt.NDArray[np.bool_],
                  weight: Floats) -> float:
    """The AUC of scores (given as ranks of distinct values) with rows counted ``weight`` times.

    The Mann-Whitney form: the weighted share of (positive, negative) pairs ordered right, ties
    counting a half; the same as ``roc_auc_score`` on the rows repeated.
    """
    size = int(rank.max()) + 1 if len(rank) else 0
    pos = np.bincount(rank, weights=weight * positive, minlength=size)
    neg = np.bincount(rank, weights=weight * ~positive, minlength=size)
    below = np.cumsum(neg) - neg
    total = pos.sum() * neg.sum()
    return float((pos * (below + neg / 2)).sum() / total) if total else float("nan")


def _cross_validated(scheme: ModelSchemeSpec, estimator: Any, x: Floats, y: npt.NDArray[Any]
                     ) -> dict[str, Any]:
    """Out-of-fold metrics: accuracy, balanced accuracy, macro F1, log loss, AUC, per class."""
    from sklearn.base import clone
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        log_loss,
        precision_recall_fscore_support,
        roc_auc_score,
    )
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(n_splits=scheme.folds, shuffle=True, random_state=scheme.seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        proba = cross_val_predict(clone(estimator), x, y, cv=folds, method="predict_proba")
    classes = np.unique(y)
    predicted = classes[np.argmax(proba, axis=1)]
    precision, recall, _, support = precision_recall_fscore_support(
        y, predicted, labels=classes, zero_division=0)
    if len(classes) == 2:
        auc = float(roc_auc_score(y, proba[:, 1]))
    else:
        auc = float(roc_auc_score(y, proba, multi_class="ovr", labels=classes))
    return {
        "folds": scheme.folds,
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)),
        "f1_macro": float(f1_score(y, predicted, average="macro")),
        "log_loss": float(log_loss(y, proba, labels=classes)),
        "auc": auc,
        "auc_95": list(_interval(y, proba, classes, seed=scheme.seed)),
        "per_class": {str(c): {"precision": float(p), "recall": float(r), "support": int(s)}
                      for c, p, r, s in zip(classes, precision, recall, support, strict=True)},
    }


def _estimator_of(model: ClassifierModel) -> Any:
    if model.artifact_bytes is None:
        raise MethodError("model: the fitted model's artifact is missing; grade again to train it")
    return load_artifact(model.artifact_bytes, model.sha256)


def grade(scheme: ModelSchemeSpec, features: ir.Table, model: ClassifierModel) -> ir.Table:
    """Predict every customer's probabilities, cut the tiers, and measure the top factors."""
    import ibis
    import pyarrow as pa

    estimator = _estimator_of(model)
    ids, x, _ = _matrix(features, scheme.features, [])
    classes = [str(c) for c in estimator.classes_]
    predictor = CellPredictor(estimator, x)
    distinct, codes = predictor.proba()
    proba = distinct[codes] if len(x) else np.zeros((0, len(classes)))
    keys = [t.key for t in scheme.tiers]
    if model.kind == "labels":
        best = np.argmax(proba, axis=1)
        chosen = proba[np.arange(len(x)), best]
        target = best
        columns: dict[str, Any] = {
            "_tier": pa.array(classes, pa.string()).take(pa.array(best)),
            "probability": pa.array(chosen, pa.float64()),
        }
    else:
        target = np.full(len(x), classes.index("1"))
        columns = {"probability": pa.array(proba[:, target[0]] if len(x) else [], pa.float64())}
    names, deltas = _factors(predictor, proba, target, model.medians, scheme.features)
    for i in range(FACTORS):
        columns[f"factor{i + 1}"] = names[i]
        columns[f"factor{i + 1}_effect"] = deltas[i]
    predicted = ibis.memtable(pa.table({"_cid": ids, **columns}))
    table = features.join(predicted, features[CUSTOMER] == predicted._cid)
    details = {"probability": table.probability, "model_sha256": ibis.literal(model.sha256)}
    for i in range(FACTORS):
        details[f"factor{i + 1}"] = table[f"factor{i + 1}"]
        details[f"factor{i + 1}_effect"] = table[f"factor{i + 1}_effect"]
    if model.kind == "labels":
        rank = table._tier.cases(*((k, i + 1) for i, k in enumerate(keys)), else_=len(keys))
        table = table.mutate(_rank=rank)
        details["next_at"] = ibis.null("float64")
        return select_grades(table, tier=table._tier, rank=table._rank,
                             score=table.probability, details=details, value=scheme.value)
    table = cut_by_score(table.mutate(_score=table.probability), scheme.tiers)
    tier = table._rank.cases(*((i + 1, k) for i, k in enumerate(keys)), else_=None)
    details = {k: table[k] for k in details if k != "model_sha256"}
    details["model_sha256"] = ibis.literal(model.sha256)
    details["next_at"] = table._floor
    return select_grades(table, tier=tier, rank=table._rank, score=table._score,
                         details=details, value=scheme.value)


def _factors(predictor: CellPredictor, proba: Floats, target: npt.NDArray[np.int64],
             medians: list[float], names: list[str]) -> tuple[list[Any], list[Any]]:
    """Per customer, the indicators whose value moves the probability of ``target`` most.

    Occlusion: each indicator in turn is set to its training median; the effect is the
    probability now minus the probability then (positive: the value raises it). Returns, per
    rank, the indicators' names and their effects as Arrow arrays (null where no effect).
    The moved probabilities are predicted once per cell (:mod:`tierwise.methods.tree_cells`);
    only the :data:`FACTORS` largest effects per customer are kept, so memory does not grow
    with the number of indicators.
    """
    top = TopEffects(len(proba))
    base = proba[np.arange(len(proba)), target]
    for j in range(len(names)):
        top.add(j, base - predictor.target_proba(target, column=j, value=medians[j]))
    return top.arrays(names)


class TopEffects:
    """The :data:`FACTORS` largest effects of each row by size, kept as indicators are added.

    The order is a stable sort of all effects by size, largest first: on equal sizes the
    indicator added first stays ahead, and NaN comes after every number.
    """

    def __init__(self, n: int) -> None:
        self.index = np.full((n, FACTORS), -1, dtype=np.int32)
        self.effect = np.zeros((n, FACTORS))

    def add(self, j: int, effect: Floats) -> None:
        """Indicator ``j``'s effect on every row, placed among the rows' largest so far."""
        size = _size(effect)
        held = _size(self.effect)
        held[self.index < 0] = -2.0  # an empty place ranks after everything
        ahead = (held >= size[:, None]).sum(axis=1)
        for place in reversed(range(FACTORS)):
            new = ahead == place
            kept_e, kept_i = self.effect[:, place], self.index[:, place]
            if place > 0:
                moved = ahead < place
                kept_e = np.where(moved, self.effect[:, place - 1], kept_e)
                kept_i = np.where(moved, self.index[:, place - 1], kept_i)
            self.effect[:, place] = np.where(new, effect, kept_e)
            self.index[:, place] = np.where(new, j, kept_i)

    def arrays(self, names: list[str]) -> tuple[list[Any], list[Any]]:
        """Per place, the indicators' names and effects as Arrow arrays (null: no effect)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        labels = pa.array(names, pa.string())
        out_names: list[Any] = []
        out_effects: list[Any] = []
        for place in range(FACTORS):
            pick, effect = self.index[:, place], self.effect[:, place]
            none = (pick < 0) | (np.abs(effect) <= 1e-9)
            taken = labels.take(pa.array(np.maximum(pick, 0))) if len(names) else \
                pa.nulls(len(pick), pa.string())
            out_names.append(pc.if_else(pa.array(none), pa.scalar(None, pa.string()), taken))
            out_effects.append(pa.array(effect, pa.float64(), mask=none))
        return out_names, out_effects


def _size(effect: Floats) -> Floats:
    """An effect's size for ranking: its absolute value, -1 for NaN (after every number)."""
    size = np.abs(effect)
    size[np.isnan(size)] = -1.0
    return size


def texts(scheme: ModelSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.Value]:
    """Reasons (the probability and the top factors with their values) and the gap."""
    import ibis

    what = ("P(tier)" if not scheme.target.outcome
            else "P(none)" if scheme.target.event == "none" else "P(top)")
    factors: list[Any] = []
    sep = _(", ")
    for i in range(FACTORS):
        name, effect = table[f"factor{i + 1}"], table[f"factor{i + 1}_effect"]
        value = ibis.cases(*((name == n, fmt(table[n])) for n in scheme.features),
                           else_=ibis.literal(""))
        label = name.cases(*((n, wording.name(n)) for n in scheme.features), else_=name)
        sign = ibis.ifelse(effect >= 0, "+", "")
        piece = wording.sentence(_("{indicator}={value} ({effect})"), indicator=label,
                                 value=value, effect=concat([sign, fmt(effect, 3)]))
        factors.append(ibis.ifelse(name.isnull(), "", concat([sep, piece])))
    head = wording.sentence(_("{algorithm} model: {figure} {probability}"),
                            algorithm=wording.algorithm_name(scheme.algorithm), figure=what,
                            probability=fmt(table.probability, 3))
    listed = wording.sentence(_("; top factors: {factors}"),
                              factors=drop_lead(concat(factors), sep))
    reasons = concat([head, ibis.coalesce(listed, "")])
    gap = ibis.ifelse(
        table.next_at.isnull() | (table.next_at <= table.score), ibis.null("string"),
        wording.sentence(_("probability +{amount} to the next tier"),
                         amount=fmt(table.next_at - table.score, 3)))
    return reasons, gap


def describe(model: ClassifierModel) -> list[tuple[str, str]]:
    """The trained model in a few lines: training data, cross-validated metrics, artifact."""
    m = model.metrics
    classes = _classes(model)
    of = model.training.get("of", model.training["rows"])
    rows = f"{model.training['rows']:,}"
    trained = (_("{rows} customers, a stratified sample of {of} ({classes})").format(
                   rows=rows, of=f"{of:,}", classes=classes)
               if of > model.training["rows"]
               else _("{rows} customers ({classes})").format(rows=rows, classes=classes))
    if model.reused:
        trained += _("; reused from the previous run")
    metrics = _("accuracy {accuracy}, balanced accuracy {balanced}, AUC {auc}").format(
        accuracy=f"{m['accuracy']:.3f}", balanced=f"{m['balanced_accuracy']:.3f}",
        auc=f"{m['auc']:.3f}")
    if "auc_95" in m:
        metrics += _(" (95% {low}-{high})").format(low=f"{m['auc_95'][0]:.3f}",
                                                            high=f"{m['auc_95'][1]:.3f}")
    metrics += _(", log loss {loss}").format(loss=f"{m['log_loss']:.3f}")
    return [
        (_("trained on"), trained),
        (_("{folds}-fold cross-validation").format(folds=m["folds"]), metrics),
        (_("artifact"), f"sha256 {model.sha256[:16]}..."),
    ]


def _classes(model: ClassifierModel) -> str:
    """The training rows per class; an outcome's two classes said in words."""
    counts = model.training["classes"]
    if model.kind != "outcome":
        return _(", ").join(f"{k} {v:,}" for k, v in counts.items())
    yes, no = f"{counts.get('1', 0):,}", f"{counts.get('0', 0):,}"  # class 1: the event
    target = model.training.get("target")
    if target is None:  # a model trained before the target was kept with it
        return _("{yes} with the outcome, {no} without").format(yes=yes, no=no)
    outcome = wording.name(target["outcome"])
    if target["event"] == "none":
        return _("{yes} with {outcome} = 0 over the window that followed, {no} above 0").format(
            yes=yes, no=no, outcome=outcome)
    return _("{yes} reached the top {share} of {outcome} in the window that followed, {no} "
             "did not").format(yes=yes, no=no, outcome=outcome,
                               share=f"{target['top_share']:.0%}")


class ModelMethod(LearningMethod[ModelSchemeSpec]):
    """``method: model``: tiers from a calibrated scikit-learn classifier."""

    name = "model"
    spec = ModelSchemeSpec
    model_type = ClassifierModel
    grade_with = grade
    texts_with = texts
    describe_with = describe

    def reads(self, spec: ModelSchemeSpec) -> list[str]:
        """The features, and the labels' indicator when the target is labels."""
        return [*spec.features, *([spec.target.labels] if spec.target.labels else [])]

    def tiers(self, spec: ModelSchemeSpec) -> list[TierSpec]:
        """The scheme's tiers, best first."""
        return tiers(spec)

    def criteria(self, spec: ModelSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.model(spec)

    def training_need(self, spec: ModelSchemeSpec) -> OutcomeTraining | None:
        """An outcome target learns from who reached the outcome over its window."""
        target = spec.target
        if not target.outcome:
            return None
        return OutcomeTraining(outcome=target.outcome, features=tuple(spec.features),
                               top_share=target.top_share, event=target.event)

    def fit(self, spec: ModelSchemeSpec, features: ir.Table, *, as_of: date,
            previous: FittedModel | None, training: ir.Table | None) -> FittedModel:
        """Train the classifier (or reuse the previous one, trained on the same data)."""
        del as_of
        return fit(spec, features, training=training, previous_model=previous)
