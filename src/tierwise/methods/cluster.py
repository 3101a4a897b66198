"""The ``cluster`` method: customers grouped by k-means or a Gaussian mixture, ranked by value.

The fit and the clusters' names and identity are in :mod:`tierwise.methods.cluster_fit`.

Grade (:func:`grade`, in the engine). Every customer is assigned as ibis expressions over the
feature table, so DuckDB or Spark grade all customers without pulling them to Python: the
indicator transformed and scaled as fitted, the squared distance to each centroid (k-means) or
each component's log density with its covariance written out through the Cholesky factor of
its precision (mixture), and the nearest centroid (most probable component) by comparison with
their least (ties to the first cluster). The score is the distance to the own centroid
(k-means) or the posterior probability of the component (mixture).
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.errors import MethodError
from tierwise.i18n import _, current
from tierwise.methods import cluster_fit, criteria, wording
from tierwise.methods.base import concat, fmt, select_grades
from tierwise.methods.cluster_fit import MODEL_VERSION, ordinal
from tierwise.methods.criteria import Criteria
from tierwise.methods.families import LearningMethod
from tierwise.methods.fitted import ClusterModel, FittedModel
from tierwise.spec.models import ClusterSchemeSpec, TierSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir


# ---------------------------------------------------------------------------------------- grade


def _check_model(scheme: ClusterSchemeSpec, model: FittedModel) -> ClusterModel:
    names = [c["indicator"] for c in model.features] if isinstance(model, ClusterModel) else []
    if (
        not isinstance(model, ClusterModel)
        or model.version != MODEL_VERSION
        or model.algorithm != scheme.algorithm
        or names != list(scheme.indicators)
    ):
        raise MethodError(
            "cluster: the model given was not fitted for this scheme (method, algorithm or "
            "indicators differ); fit it again with methods.fit"
        )
    return model


def grade(scheme: ClusterSchemeSpec, features: ir.Table, model: FittedModel) -> ir.Table:
    """Assign every customer to a cluster of ``model``, in the engine.

    Details: ``cluster`` (the cluster's tier key), ``cluster_rank`` (its rank by mean value),
    ``clusters`` (k), ``cluster_value`` (its mean value when fitted), ``distance`` (to the own
    centre; Mahalanobis for a mixture), ``next_cluster`` and ``next_distance`` (the next nearest,
    or next most probable), ``better_cluster`` and ``better_distance`` (the nearest cluster of a
    better tier, null in the top tier); a mixture adds ``next_probability``.
    """
    import ibis

    fitted = _check_model(scheme, model)
    clusters = fitted.clusters
    k = len(clusters)
    gmm = fitted.algorithm == "gmm"
    table, cost = _costs(features, fitted)
    table = table.mutate(_m1=ibis.least(*(table[f"{cost}{j}"] for j in range(k))))
    table = table.mutate(_a=_argmin(table, cost, "_m1", k))
    ranks = [c["tier_rank"] for c in clusters]
    masked = {}
    for j in range(k):
        c_j = table[f"{cost}{j}"]
        masked[f"_e{j}"] = ibis.ifelse(table._a == j, ibis.null("float64"), c_j)
        worse = [i for i in range(k) if ranks[i] > ranks[j]]
        masked[f"_f{j}"] = (
            ibis.ifelse(table._a.isin(worse), c_j, ibis.null("float64"))
            if worse
            else ibis.null("float64")
        )
    table = table.mutate(**masked)
    table = table.mutate(
        _m2=ibis.least(*(table[f"_e{j}"] for j in range(k))),
        _m3=ibis.least(*(table[f"_f{j}"] for j in range(k))),
    )
    table = table.mutate(_b=_argmin(table, "_e", "_m2", k), _g=_argmin(table, "_f", "_m3", k))
    details = _details(table, clusters)
    total = _sum([(table._m1 - table[f"_c{j}"]).exp() for j in range(k)]) if gmm else None
    if total is not None:
        details["next_probability"] = (table._m1 - table._m2).exp() / total
    return select_grades(
        table,
        tier=details["cluster"],
        rank=_pick(table._a, ranks),
        score=(1.0 / total) if total is not None else details["distance"],
        details=details,
        value=scheme.value,
    )


def _costs(features: ir.Table, model: ClusterModel) -> tuple[ir.Table, str]:
    """``features`` with each cluster's cost, and the prefix of the cost to minimise.

    ``_q{j}`` is the squared distance to cluster j; a mixture adds ``_c{j}``, the -log
    weighted density, which the assignment minimises instead.
    """
    table = features.mutate(
        **{f"_z{i}": _scaled(features[c["indicator"]], c) for i, c in enumerate(model.features)}
    )
    zs = [table[f"_z{i}"] for i in range(len(model.features))]
    squares = {}
    if model.algorithm != "gmm":
        for j, c in enumerate(model.clusters):
            diffs = [z - mu for z, mu in zip(zs, c["centroid"], strict=True)]
            squares[f"_q{j}"] = _sum([d * d for d in diffs])
        return table.mutate(**squares), "_q"
    for j, c in enumerate(model.clusters):
        u = c["precision_cholesky"]
        diffs = [z - mu for z, mu in zip(zs, c["mean"], strict=True)]
        ys = [
            _sum([diffs[i] * row[r] for i, row in enumerate(u) if row[r] != 0.0])
            for r in range(len(zs))
        ]
        squares[f"_q{j}"] = _sum([y * y for y in ys])
    table = table.mutate(**squares)
    logs = [
        math.log(c["weight"])
        + sum(math.log(row[r]) for r, row in enumerate(c["precision_cholesky"]))
        - 0.5 * len(zs) * math.log(2 * math.pi)
        for c in model.clusters
    ]
    return table.mutate(**{f"_c{j}": table[f"_q{j}"] * 0.5 - logs[j]
                           for j in range(len(model.clusters))}), "_c"


def _pick(index: ir.IntegerValue, values: list[Any]) -> ir.Value:
    return index.cases(*((j, v) for j, v in enumerate(values) if v is not None), else_=None)


def _details(table: ir.Table, clusters: list[dict[str, Any]]) -> dict[str, Any]:
    """The detail columns of the own (``_a``), next (``_b``) and better (``_g``) clusters."""
    import ibis

    k = len(clusters)

    def distance(index: ir.IntegerValue) -> ir.FloatingValue:
        return _pick(index, [table[f"_q{j}"] for j in range(k)]).cast("float64").sqrt()

    keys = [c["key"] for c in clusters]
    return {
        "cluster": _pick(table._a, keys).cast("string"),
        "cluster_rank": _pick(table._a, [c["value_rank"] for c in clusters]).cast("int32"),
        "clusters": ibis.literal(k, "int32"),
        "cluster_value": _pick(table._a, [c["value_mean"] for c in clusters]).cast("float64"),
        "distance": distance(table._a),
        "next_cluster": _pick(table._b, keys).cast("string"),
        "next_distance": distance(table._b),
        "better_cluster": _pick(table._g, keys).cast("string"),
        "better_distance": distance(table._g),
    }


def _scaled(column: ir.Value, spec: dict[str, Any]) -> ir.FloatingValue:
    """An indicator filled, transformed and scaled as fitted (see :func:`_prepare`)."""
    import ibis

    raw = column.cast("float64")
    filled = ibis.coalesce(
        ibis.ifelse(raw.isnan(), ibis.null("float64"), raw), ibis.literal(spec["fill"], "float64")
    )
    if spec["transform"] == "log1p":
        logged = (filled.abs() + 1.0).ln()
        filled = ibis.ifelse(filled < 0, -logged, logged)
    centre = ibis.literal(spec["centre"], "float64")
    scale = ibis.literal(spec["scale"], "float64")
    return (filled - centre) / scale


def _sum(values: list[Any]) -> Any:
    import ibis

    if not values:
        return ibis.literal(0.0, "float64")
    out = values[0]
    for v in values[1:]:
        out = out + v
    return out


def _argmin(table: ir.Table, prefix: str, least: str, k: int) -> ir.IntegerValue:
    """The first cluster whose column equals the least (null when every column is null)."""
    import ibis

    out: ir.IntegerValue = ibis.cases(
        *((table[f"{prefix}{j}"] == table[least], j) for j in range(k)), else_=None
    ).cast("int32")
    return out


# ---------------------------------------------------------------------------------------- texts


def texts(scheme: ClusterSchemeSpec, table: ir.Table) -> tuple[ir.StringValue, ir.StringValue]:
    """Reasons and gaps of graded customers (``table``: grade columns and indicator values).

    E.g. "cluster c2 (2nd of 4 by mean spend_12m=1234): nearest centroid, distance 0.8; next
    nearest c3 at 1.4; spend_12m=980, orders_12m=7"; the gap names the nearest cluster of a
    better tier and the distance to its centre.
    """
    import ibis

    from tierwise.spec.models import MAX_CLUSTERS

    english = current() == "en"
    rank_text = table.cluster_rank.cases(
        *((i, ordinal(i) if english else str(i)) for i in range(1, MAX_CLUSTERS + 1)),
        else_="?")
    head = wording.sentence(_("cluster {cluster} ({rank} of {clusters} by mean {value}={mean}): "),
                            cluster=table.cluster, rank=rank_text,
                            clusters=table.clusters.cast("string"),
                            value=wording.name(scheme.value), mean=fmt(table.cluster_value))
    if scheme.algorithm == "gmm":
        how = wording.sentence(
            _("most probable component, p={p}, distance {distance}; next {next} p={next_p}, "
              "distance {next_distance}"),
            p=fmt(table.score, 3), distance=fmt(table.distance),
            next=table.next_cluster.fill_null("?"), next_p=fmt(table.next_probability, 3),
            next_distance=fmt(table.next_distance))
    else:
        how = wording.sentence(
            _("nearest centroid, distance {distance}; next nearest {next} at {next_distance}"),
            distance=fmt(table.distance), next=table.next_cluster.fill_null("?"),
            next_distance=fmt(table.next_distance))
    values: list[ir.StringValue | str] = []
    for i, name in enumerate(scheme.indicators):
        values += [(_("; ") if i == 0 else _(", ")) + wording.name(name) + "=",
                   fmt(table[name])]
    reasons = concat([head, how, *values])
    centre = (_("to reach {tier}: the nearest better cluster, its mean at distance {distance} "
                "(own at {own})") if scheme.algorithm == "gmm"
              else _("to reach {tier}: the nearest better cluster, its centroid at distance "
                     "{distance} (own at {own})"))
    gap = ibis.ifelse(
        table.better_cluster.isnull(),
        ibis.null("string"),
        wording.sentence(centre, tier=table.better_cluster.fill_null(""),
                         distance=fmt(table.better_distance), own=fmt(table.distance)),
    )
    return reasons, gap


def describe(model: ClusterModel) -> list[tuple[str, str]]:
    """The fitted clusters in a few lines: k and how it was chosen, sizes, the previous run."""
    chosen = model.chosen_by
    how = chosen["criterion"]
    algorithm = wording.algorithm_name(model.algorithm)
    if how in ("silhouette", "bic"):
        scores = _(", ").join(f"k={t['k']}: {t[how]:.3g}" for t in chosen["tried"])
        criterion = _("silhouette") if how == "silhouette" else "BIC"
        clusters = _("{algorithm}, k = {k} chosen by {criterion} ({scores})").format(
            algorithm=algorithm, k=model.k, criterion=criterion, scores=scores)
    else:
        clusters = _("{algorithm}, k = {k} given").format(algorithm=algorithm, k=model.k)
    sizes = _(", ").join(f"{c['key']} {c['size']:,}" for c in model.clusters)
    return [(_("clusters"), clusters), (_("sizes"), sizes),
            (_("identity"), _note(model.previous))]


def _note(previous: dict[str, Any]) -> str:
    """Why the previous run's clusters were (not) matched, in the reader's language.

    A model saved before the note kept its message has the English text only.
    """
    if "note_id" not in previous:
        return str(previous["note"])
    args = {k: wording.algorithm_name(v) if k == "algorithm" else v
            for k, v in previous["note_args"].items()}
    return _(previous["note_id"]).format(**args)


class ClusterMethod(LearningMethod[ClusterSchemeSpec]):
    """``method: cluster``: clusters learned from indicators, ranked by mean value."""

    name = "cluster"
    spec = ClusterSchemeSpec
    # The score is the distance to the own centre (or the mixture's probability): how typical
    # a customer is of the cluster, not how good.
    score_ranks = False
    model_type = ClusterModel
    grade_with = grade
    texts_with = texts
    describe_with = describe

    def reads(self, spec: ClusterSchemeSpec) -> list[str]:
        """The clustered indicators."""
        return list(spec.indicators)

    def tiers(self, spec: ClusterSchemeSpec) -> list[TierSpec]:
        """The clusters' tiers, best value first (``c1``..``ck`` unless given)."""
        return cluster_fit.tiers(spec)

    def criteria(self, spec: ClusterSchemeSpec) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`)."""
        return criteria.cluster(spec, self.tiers(spec))

    def fit(self, spec: ClusterSchemeSpec, features: ir.Table, *, as_of: date,
            previous: FittedModel | None, training: ir.Table | None) -> FittedModel:
        """Fit the clusters, keeping the previous run's tiers where clusters match."""
        del as_of, training
        return cluster_fit.fit(spec, features, previous_model=previous)
