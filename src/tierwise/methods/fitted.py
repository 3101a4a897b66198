"""Fitted models: what a learning method learns, as typed objects with a JSON form.

A model travels from :meth:`~tierwise.methods.protocol.Method.fit` to ``grade`` and into the
run's ``run.json`` (``"model"``, written by :meth:`FittedModel.to_json`); the next run reads it
back with the method's ``load_model`` (a cluster model keeps its clusters' tiers, a classifier
is reused when its training data are the same). A model may carry a binary ``artifact`` (the
classifier's skops file), which the service writes beside ``run.json``; the JSON names it.

The JSON forms keep the keys, and their order, of the dictionaries these models replaced, so
``run.json`` files of earlier runs read back and new ones are written byte for byte the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: Version of the cluster model's JSON form; a previous model of another version is not matched.
CLUSTER_MODEL_VERSION = 1


class FittedModel(ABC):
    """What a learning method fitted: a JSON form and, optionally, a binary artifact."""

    @property
    def artifact(self) -> bytes | None:
        """Bytes written beside ``run.json`` (none unless the model has a binary part)."""
        return None

    @abstractmethod
    def to_json(self, *, artifact_file: str | None = None) -> dict[str, Any]:
        """The model as JSON-ready data; ``artifact_file`` names the file holding the artifact."""

    @classmethod
    @abstractmethod
    def from_json(cls, data: Mapping[str, Any], artifact: bytes | None = None
                  ) -> FittedModel | None:
        """The model from :meth:`to_json`'s form and the artifact's bytes; None if unreadable."""


@dataclass(frozen=True)
class ClusterModel(FittedModel):
    """The clusters a ``cluster`` scheme learned (see :mod:`tierwise.methods.cluster_fit`).

    Attributes:
        algorithm: ``kmeans`` or ``gmm``.
        covariance: The mixture's covariance (``full`` or ``diag``); None for k-means.
        k: The number of clusters.
        seed: The seed of the sample and of the fit.
        scale: The scaling of the indicators (``standard``, ``robust`` or ``none``).
        value: The value indicator the clusters are ranked by.
        chosen_by: How k was chosen: ``criterion``, the ``tried`` k with their scores.
        init: How the fit started (fresh, or from the previous run's centres).
        rows: Customers graded and fitted (``customers``, ``fitted``).
        features: Per indicator: ``indicator``, ``transform``, ``fill``, ``centre``, ``scale``.
        clusters: Per cluster, best first: ``key``, ``tier_rank``, ``value_rank``, the
            profile, size and the centre (``centroid``; a mixture's ``mean``, ``weight``,
            ``covariance`` and ``precision_cholesky``).
        previous: Whether the previous run's clusters were matched (``used``) and why
            (``note``, in English; ``note_id`` and ``note_args``, its message and values).
        version: Version of this form (:data:`CLUSTER_MODEL_VERSION` when fitted here).

    """

    algorithm: str
    covariance: str | None
    k: int
    seed: int
    scale: str
    value: str
    chosen_by: dict[str, Any]
    init: Any
    rows: dict[str, int]
    features: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    previous: dict[str, Any]
    version: int = CLUSTER_MODEL_VERSION

    def to_json(self, *, artifact_file: str | None = None) -> dict[str, Any]:
        """The model as ``run.json`` holds it (``method`` and ``version`` first)."""
        del artifact_file
        return {"method": "cluster", "version": self.version, "algorithm": self.algorithm,
                "covariance": self.covariance, "k": self.k, "seed": self.seed,
                "scale": self.scale, "value": self.value, "chosen_by": self.chosen_by,
                "init": self.init, "rows": self.rows, "features": self.features,
                "clusters": self.clusters, "previous": self.previous}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], artifact: bytes | None = None
                  ) -> ClusterModel | None:
        """The model from its JSON form; None when it is no cluster model."""
        del artifact
        try:
            if data["method"] != "cluster":
                return None
            return cls(algorithm=data["algorithm"], covariance=data.get("covariance"),
                       k=int(data["k"]), seed=int(data["seed"]), scale=data["scale"],
                       value=data["value"], chosen_by=dict(data["chosen_by"]),
                       init=data.get("init"), rows=dict(data["rows"]),
                       features=list(data["features"]), clusters=list(data["clusters"]),
                       previous=dict(data["previous"]), version=int(data["version"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class LifetimeFit:
    """One fitted lifetime model (BG/NBD, Pareto/NBD or Gamma-Gamma) of a CLV model.

    Attributes:
        params: The estimates by parameter name.
        standard_errors: Their standard errors.
        covariance_log: The covariance of the log-parameters (for interval draws).
        log_likelihood: The maximised log-likelihood.

    """

    params: dict[str, float]
    standard_errors: dict[str, float]
    covariance_log: list[list[float]]
    log_likelihood: float

    def to_json(self) -> dict[str, Any]:
        """The fit as JSON-ready data."""
        return {"params": self.params, "standard_errors": self.standard_errors,
                "covariance_log": self.covariance_log, "log_likelihood": self.log_likelihood}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LifetimeFit:
        """The fit from its JSON form (raises KeyError or TypeError when incomplete)."""
        return cls(params=dict(data["params"]), standard_errors=dict(data["standard_errors"]),
                   covariance_log=[list(row) for row in data["covariance_log"]],
                   log_likelihood=float(data["log_likelihood"]))


@dataclass(frozen=True)
class ClvModel(FittedModel):
    """A ``clv`` scheme's transaction and spend models (see :mod:`tierwise.methods.clv`).

    Attributes:
        model: The transaction model, ``bgnbd`` or ``paretonbd``.
        unit_days: Days in the model's time unit.
        customers: Customers with a purchase (the transaction model's data).
        repeat_buyers: Customers with a repeat purchase and spend (Gamma-Gamma's data).
        transactions: The transaction model's fit.
        spend: The Gamma-Gamma fit.
        notes: What the reader should know about the fit, as text (models saved before
            ``one_time``; new fits keep facts, said in the reader's language).
        one_time: BG/NBD: the share of buyers with no repeat purchase (None when none).

    """

    model: str
    unit_days: int
    customers: int
    repeat_buyers: int
    transactions: LifetimeFit
    spend: LifetimeFit
    notes: tuple[str, ...] = ()
    one_time: float | None = None

    def to_json(self, *, artifact_file: str | None = None) -> dict[str, Any]:
        """The model as ``run.json`` holds it."""
        del artifact_file
        return {"model": self.model, "unit_days": self.unit_days, "customers": self.customers,
                "repeat_buyers": self.repeat_buyers,
                "transactions": self.transactions.to_json(), "spend": self.spend.to_json(),
                "notes": list(self.notes), "one_time": self.one_time}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], artifact: bytes | None = None
                  ) -> ClvModel | None:
        """The model from its JSON form; None when it is incomplete."""
        del artifact
        try:
            return cls(model=str(data["model"]), unit_days=int(data["unit_days"]),
                       customers=int(data["customers"]),
                       repeat_buyers=int(data["repeat_buyers"]),
                       transactions=LifetimeFit.from_json(data["transactions"]),
                       spend=LifetimeFit.from_json(data["spend"]),
                       notes=tuple(data.get("notes", ())),
                       one_time=(None if data.get("one_time") is None
                                 else float(data["one_time"])))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class ClassifierModel(FittedModel):
    """A ``model`` scheme's trained classifier (see :mod:`tierwise.methods.model`).

    Attributes:
        kind: ``labels`` (expert labels) or ``outcome`` (a future outcome's top share).
        settings: The settings it was trained with (algorithm, calibration, folds, seed,
            features): a previous model is reused only with the same.
        classes: The classifier's classes, in its order.
        training: Training ``rows``, their ``fingerprint`` and customers per class.
        metrics: Cross-validated metrics.
        medians: Per feature, the training median (the reference of the factors).
        sha256: SHA-256 of the artifact.
        artifact_bytes: The skops file of the fitted estimator; None when it could not be read.
        reused: Whether the previous run's classifier was reused.

    """

    kind: Literal["labels", "outcome"]
    settings: dict[str, Any]
    classes: list[str]
    training: dict[str, Any]
    metrics: dict[str, Any]
    medians: list[float]
    sha256: str
    artifact_bytes: bytes | None
    reused: bool = False

    @property
    def artifact(self) -> bytes | None:
        """The skops file of the fitted estimator."""
        return self.artifact_bytes

    def to_json(self, *, artifact_file: str | None = None) -> dict[str, Any]:
        """The model as ``run.json`` holds it, naming the artifact's file."""
        artifact = {"artifact": {"file": artifact_file}} if artifact_file else {}
        return {"kind": self.kind, "settings": self.settings, "classes": self.classes,
                "training": self.training, "metrics": self.metrics, "medians": self.medians,
                "sha256": self.sha256, **artifact, "reused": self.reused}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], artifact: bytes | None = None
                  ) -> ClassifierModel | None:
        """The model from its JSON form and the artifact's bytes; None when incomplete."""
        try:
            kind = data["kind"]
            if kind not in ("labels", "outcome"):
                return None
            return cls(kind=kind, settings=dict(data["settings"]),
                       classes=[str(c) for c in data["classes"]],
                       training=dict(data["training"]), metrics=dict(data["metrics"]),
                       medians=[float(m) for m in data["medians"]], sha256=str(data["sha256"]),
                       artifact_bytes=artifact, reused=bool(data.get("reused", False)))
        except (KeyError, TypeError, ValueError):
            return None


__all__ = [
    "CLUSTER_MODEL_VERSION",
    "ClassifierModel",
    "ClusterModel",
    "ClvModel",
    "FittedModel",
    "LifetimeFit",
]
