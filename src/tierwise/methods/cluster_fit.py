"""Fitting the ``cluster`` method: k-means or a Gaussian mixture, and the clusters' tiers.

Fit (:func:`fit`, in Python on the feature table). The clustered indicators and the value
indicator are pulled to Arrow ordered by customer id; above ``sample`` customers, a seeded
sample of row positions in that order is kept, so the fit does not depend on row order or on
the engine. Per indicator: a missing value (null or NaN) takes the median of the fitted
customers (stored as ``fill``); ``log1p`` is the signed ``sign(x) * ln(1 + |x|)``, so net
refunds stay defined; ``standard`` scaling subtracts the mean and divides by the standard
deviation, ``robust`` the median and the interquartile range. k-means (Lloyd's algorithm with
k-means++ starts, Arthur and Vassilvitskii 2007; scikit-learn's ``KMeans``) minimises the
squared Euclidean distance in that scaled space; the Gaussian mixture (``GaussianMixture``, EM)
fits one mean, ``full`` (default) or ``diag`` covariance and weight per component. With ``k``
null, k-means takes the k in ``k_range`` with the largest mean silhouette (Rousseeuw 1987) on a
seeded sample of at most 10,000 fitted customers, the mixture the k with the smallest BIC
(Schwarz 1978); ties go to the smaller k. Both are deterministic for a seed.

Names and identity. Clusters are ranked by the mean value of their customers, highest first,
and on a first fit take the tiers in that order (``tiers``, else ``c1``..``ck``). Given the
previous run's model (same algorithm, indicators and transforms, same k), the new clusters are
matched one to one to the previous ones by the Hungarian algorithm (Kuhn 1955; scipy's
``linear_sum_assignment``) on the distance between centres in the new scaled space, and each
keeps its previous tier: a tier names the same group of customers from run to run, even when
two clusters of similar value swap their value order (the model states each cluster's value
rank, the previous cluster it matched and how far its centre moved). The previous centres also
start the fit, kept unless a fresh fit is clearly better (1% less inertia, or 0.01 more mean
log-likelihood per customer). When k changes, clusters are keyed by value order afresh.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierwise.errors import MethodError
from tierwise.i18n import N_, _
from tierwise.methods.fitted import CLUSTER_MODEL_VERSION, ClusterModel, FittedModel
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.models import ClusterSchemeSpec, Label, TierSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

MODEL_VERSION = CLUSTER_MODEL_VERSION
#: Most fitted customers the silhouette of a candidate k is measured on. Its cost grows with the
#: square: on 2 cores 20,000 took 3.5 s per k (25 s for k 2..8), 10,000 under 1 s, and the mean
#: silhouette of 10,000 customers is already within about 0.005 of the whole's.
SILHOUETTE_ROWS = 10_000
#: Fewest fitted customers per cluster (on average) a fit accepts.
MIN_PER_CLUSTER = 5
#: k-means starts per candidate k.
N_INIT = 4
#: A fresh fit replaces the one started from the previous centres only when this much better.
KEEP_PREVIOUS = 0.01
_BATCH = 262_144


# How much better another k must score to replace the previous run's k (see fit).
SILHOUETTE_MARGIN = 0.02
BIC_MARGIN = 10.0

#: Why the previous run's clusters were or were not matched: a message and its values, kept in
#: the model so that each reader sees it in their language.
Note = tuple[str, dict[str, Any]]


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def tiers(scheme: ClusterSchemeSpec) -> list[TierSpec]:
    """The scheme's tiers: ``tiers`` as given, else ``c1``..``c<most k>`` labelled by value."""
    if scheme.tiers:
        return list(scheme.tiers)
    _, most = scheme.clusters_range()
    out = []
    for i in range(1, most + 1):
        en = f"highest {scheme.value}" if i == 1 else f"{ordinal(i)} highest {scheme.value}"
        zh = f"{scheme.value}第{i}高"
        out.append(
            TierSpec(key=f"c{i}", label=Label(en=f"Cluster {i} ({en})", zh=f"聚类{i}（{zh}）"))
        )
    return out


def _libraries() -> tuple[Any, Any, Any, Any]:
    """scikit-learn's KMeans, GaussianMixture, silhouette_score and scipy's assignment solver."""
    try:
        from scipy.optimize import linear_sum_assignment
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from sklearn.mixture import GaussianMixture
    except ImportError:
        raise MethodError(
            _("method 'cluster' fits with scikit-learn and scipy, which are not installed; "
              "install them with `pip install 'tierwise[ml]'`")
        ) from None
    return KMeans, GaussianMixture, silhouette_score, linear_sum_assignment


def fit(
    scheme: ClusterSchemeSpec, features: ir.Table, *, previous_model: FittedModel | None = None
) -> ClusterModel:
    """Fit the scheme's clusters on ``features``.

    Args:
        scheme: The cluster scheme.
        features: The feature table (one row per customer) with the scheme's indicators.
        previous_model: The model of the previous official run, whose clusters keep their
            tiers when they match (see the module docstring); None for a first fit.

    Returns:
        The model: algorithm, k and how it was chosen, the transform, fill and scaling of each
        indicator, and per cluster its tier, value rank, centre (and covariance), size and
        profile, and the previous cluster it matched.

    Raises:
        MethodError: An indicator is missing, constant or empty; too few customers or distinct
            points for the clusters asked for; or scikit-learn is not installed.
    """
    import numpy as np

    libraries = _libraries()
    names = list(scheme.indicators)
    missing = [n for n in dict.fromkeys([*names, scheme.value]) if n not in features.columns]
    if missing:
        raise MethodError(
            _("cluster: the feature table has no indicator {missing!r}; declare it under "
              "`indicators:` and list it in the scheme (it is computed only when a scheme uses "
              "it)").format(missing=missing[0])
        )
    raw, value, total = _pull(features, names, scheme)
    low = _enough_rows(scheme, len(value))
    columns, z = _prepare(scheme, names, raw)
    high = _most_clusters(scheme, z, low)
    previous, note = _usable_previous(scheme, previous_model, columns)
    search = _search(scheme, z, low, high, previous, libraries)
    k, fitted, kept = _settled(search, previous)
    note = kept or note
    labels = np.argmin(_costs(z, fitted), axis=1)
    clusters = _profiles(scheme, names, raw, value, labels, k)
    keyed, matched = _keys(scheme, clusters, fitted, previous, libraries[3], k)
    if previous is not None and not matched:
        note = (N_("k changed from {before} to {after}: clusters keyed by value order afresh"),
                {"before": len(previous["keys"]), "after": k})
    order = sorted(range(k), key=lambda j: keyed[j]["tier_rank"])
    chosen_by = {"criterion": search.criterion, "tried": search.tried,
                 **({"silhouette_rows": search.sil_rows}
                    if search.criterion == "silhouette" else {})}
    return ClusterModel(
        algorithm=scheme.algorithm,
        covariance=(scheme.covariance or "full") if scheme.algorithm == "gmm" else None,
        k=k, seed=scheme.seed, scale=scheme.scale, value=scheme.value, chosen_by=chosen_by,
        init=fitted["init"], rows={"customers": total, "fitted": len(value)}, features=columns,
        clusters=[_described(scheme, {**keyed[j], **clusters[j]}, fitted, j) for j in order],
        previous={"used": bool(previous is not None and matched),
                  "note": note[0].format(**note[1]), "note_id": note[0], "note_args": note[1]},
    )


def _enough_rows(scheme: ClusterSchemeSpec, rows: int) -> int:
    """The least clusters of the scheme's range, when the fitted customers allow them."""
    low = scheme.clusters_range()[0]
    if rows < MIN_PER_CLUSTER * low:
        raise MethodError(
            _("cluster: {rows} customers are too few for {low} clusters (at least "
              "{min_per_cluster} per cluster, {needed}); grade more customers or ask for fewer "
              "clusters (`k`)").format(rows=rows, low=low, min_per_cluster=MIN_PER_CLUSTER,
                needed=MIN_PER_CLUSTER * low)
        )
    return low


def _most_clusters(scheme: ClusterSchemeSpec, z: Array, low: int) -> int:
    """The most clusters the fitted customers' distinct points allow within the range."""
    import numpy as np

    names = _(", ").join(scheme.indicators)
    rows, high = len(z), scheme.clusters_range()[1]
    distinct = len(np.unique(z, axis=0))
    if scheme.k is not None and scheme.k > distinct:
        raise MethodError(
            _("cluster: k: {k} clusters, but the {rows} customers fitted have only {distinct} "
              "distinct combinations of {names}; set k to at most {distinct} or cluster on "
              "more varied indicators").format(k=scheme.k, rows=rows, distinct=distinct,
                names=names)
        )
    high = min(high, distinct, rows // MIN_PER_CLUSTER)
    if high < low:
        raise MethodError(
            _("cluster: k_range starts at {low}, but the {rows} customers fitted allow at most "
              "{high} clusters ({distinct} distinct points, {min_per_cluster} customers per "
              "cluster); lower `k_range`").format(low=low, rows=rows, high=high,
                distinct=distinct, min_per_cluster=MIN_PER_CLUSTER)
        )
    return high


@dataclass(frozen=True)
class _Search:
    """The fits of every k tried: how k is chosen, each k's score (lower is better) and fit."""

    criterion: str
    sil_rows: int
    tried: list[dict[str, Any]]
    by_k: dict[int, tuple[float, dict[str, Any]]]
    best: int


def _search(scheme: ClusterSchemeSpec, z: Array, low: int, high: int,
            previous: dict[str, Any] | None, libraries: tuple[Any, Any, Any, Any]) -> _Search:
    """Fit every k from ``low`` to ``high`` and score it (silhouette or BIC)."""
    import numpy as np

    kmeans_cls, gmm_cls, silhouette, _ = libraries
    rows, seed = len(z), scheme.seed
    criterion = (
        "fixed" if low == high else ("silhouette" if scheme.algorithm == "kmeans" else "bic")
    )
    sil_rows = min(rows, SILHOUETTE_ROWS)
    tried: list[dict[str, Any]] = []
    by_k: dict[int, tuple[float, dict[str, Any]]] = {}
    with warnings.catch_warnings():
        # scikit-learn's convergence and duplicate-point notes: the model records convergence.
        warnings.filterwarnings("ignore", module="sklearn")
        for k in range(low, high + 1):
            start = previous["centres"] if previous and len(previous["keys"]) == k else None
            if scheme.algorithm == "kmeans":
                fitted = _fit_kmeans(kmeans_cls, z, k, seed, start)
            else:
                fitted = _fit_gmm(gmm_cls, z, k, seed, scheme.covariance or "full", start)
            entry: dict[str, Any] = {"k": k, **fitted["facts"]}
            if criterion == "silhouette":
                labels = np.argmin(_costs(z, fitted), axis=1)
                entry["silhouette"] = float(silhouette(
                    z, labels, sample_size=sil_rows if sil_rows < rows else None,
                    random_state=seed)) if len(np.unique(labels)) > 1 else -1.0
                rank = -entry["silhouette"]
            else:
                rank = entry.get("bic", 0.0)
            tried.append(entry)
            by_k[k] = (rank, fitted)
    # min keeps the first of equal scores: ties go to the smaller k.
    best = min(by_k, key=lambda k: by_k[k][0])
    return _Search(criterion, sil_rows, tried, by_k, best)


def _settled(search: _Search, previous: dict[str, Any] | None
             ) -> tuple[int, dict[str, Any], Note | None]:
    """The k and fit kept, and a note when the previous run's k stayed despite a better one."""
    k, fitted = search.best, search.by_k[search.best][1]
    kept = len(previous["keys"]) if previous else None
    if kept is not None and kept != k and kept in search.by_k and search.criterion != "fixed":
        # A near tie must not re-key every cluster from one run to the next: the previous k
        # stays unless another k is clearly better (silhouette by more than 0.02, BIC by more
        # than 10, "strong evidence" in Kass & Raftery's scale).
        margin = SILHOUETTE_MARGIN if search.criterion == "silhouette" else BIC_MARGIN
        if search.by_k[kept][0] - search.by_k[k][0] <= margin:
            return kept, search.by_k[kept][1], (
                N_("kept k = {kept} from the previous run: k = {k} scored within {margin} of it"),
                {"kept": kept, "k": k, "margin": f"{margin:g}"})
    return k, fitted, None


def _described(scheme: ClusterSchemeSpec, entry: dict[str, Any], fitted: dict[str, Any],
               j: int) -> dict[str, Any]:
    """A cluster's entry of the model with its centre (and a mixture's covariance)."""
    if scheme.algorithm == "kmeans":
        entry["centroid"] = _floats(fitted["centres"][j])
    else:
        entry["mean"] = _floats(fitted["centres"][j])
        entry["weight"] = float(fitted["weights"][j])
        entry["covariance"] = _floats(fitted["covariances"][j])
        entry["precision_cholesky"] = _floats(fitted["precisions"][j])
    return entry


def _pull(
    features: ir.Table, names: list[str], scheme: ClusterSchemeSpec
) -> tuple[dict[str, Array], Array, int]:
    """The indicators and the value as float arrays (NaN for missing), sampled, by customer id."""
    import numpy as np
    import pyarrow as pa

    wanted = list(dict.fromkeys([*names, scheme.value]))
    table = features.select(CUSTOMER, *(features[n].cast("float64").name(n) for n in wanted))
    total = int(table.count().execute())
    ordered = table.order_by(CUSTOMER)
    if total <= scheme.sample:
        arrow = ordered.to_pyarrow()
    else:
        rng = np.random.default_rng(scheme.seed)
        keep = np.sort(rng.choice(total, size=scheme.sample, replace=False))
        parts, offset = [], 0
        with warnings.catch_warnings():
            # ibis 12 streams DuckDB results through a method DuckDB 1.5 deprecates.
            warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
            for batch in ordered.to_pyarrow_batches(chunk_size=_BATCH):
                size = batch.num_rows
                lo, hi = np.searchsorted(keep, [offset, offset + size])
                if hi > lo:
                    parts.append(batch.take(pa.array(keep[lo:hi] - offset)))
                offset += size
        arrow = pa.Table.from_batches(parts, schema=ordered.schema().to_pyarrow())
    data = {n: arrow[n].to_numpy(zero_copy_only=False).astype("float64") for n in wanted}
    return {n: data[n] for n in names}, data[scheme.value], total


def _transform(values: Array, how: str) -> Array:
    import numpy as np

    if how == "none":
        return values
    logged: Array = np.log(1.0 + np.abs(values))
    return np.where(values < 0, -logged, logged)


def _prepare(
    scheme: ClusterSchemeSpec, names: list[str], raw: dict[str, Array]
) -> tuple[list[dict[str, Any]], Array]:
    """Per indicator its fill, transform and scaling; and the scaled matrix fitted."""
    import numpy as np

    columns, scaled = [], []
    for name in names:
        values = raw[name]
        known = ~np.isnan(values)
        if not known.any():
            raise MethodError(
                _("cluster: indicator {name!r} has no value for any customer fitted; check its "
                  "definition or remove it from `indicators`").format(name=name)
            )
        fill = float(np.median(values[known]))
        how = scheme.transform_of(name)
        t = _transform(np.where(known, values, fill), how)
        if t.min() == t.max():
            raise MethodError(
                _("cluster: indicator {name!r} is constant ({num} for every customer fitted), "
                  "so it cannot separate clusters; remove it from `indicators`").format(name=name,
                    num=_num(float(values[known][0])))
            )
        if scheme.scale == "standard":
            centre, spread = float(t.mean()), float(t.std())
        elif scheme.scale == "robust":
            q25, centre, q75 = (float(q) for q in np.percentile(t, [25, 50, 75]))
            spread = q75 - q25
            if spread == 0:
                raise MethodError(
                    _("cluster: indicator {name!r} has an interquartile range of 0 (at least "
                      "half the customers fitted share one value), so robust scaling would "
                      "divide by zero; use `scale: standard`").format(name=name)
                )
        else:
            centre, spread = 0.0, 1.0
        columns.append(
            {"indicator": name, "transform": how, "fill": fill, "centre": centre, "scale": spread}
        )
        scaled.append((t - centre) / spread)
    return columns, np.column_stack(scaled)


def _usable_previous(
    scheme: ClusterSchemeSpec, model: FittedModel | None, columns: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, Note]:
    """The previous clusters' keys and centres in this fit's scaled space, or why not."""
    import numpy as np

    if model is None:
        return None, (N_("no previous model: clusters keyed by value order"), {})
    if not isinstance(model, ClusterModel) or model.version != MODEL_VERSION:
        return None, (N_("the previous model is not a cluster model of this version"), {})
    if model.algorithm != scheme.algorithm:
        return None, (N_("the previous model used {algorithm}: keyed afresh"),
                       {"algorithm": model.algorithm})
    before = [(c["indicator"], c["transform"]) for c in model.features]
    now = [(c["indicator"], c["transform"]) for c in columns]
    if before != now:
        return None, (N_("indicators or transforms changed since the previous model: keyed afresh"),
                       {})
    keys = [c["key"] for c in model.clusters]
    known = {t.key for t in tiers(scheme)}
    if not set(keys) <= known:
        return None, (N_("the previous model's tiers are not this scheme's tiers: keyed afresh"),
                       {})
    field = "centroid" if scheme.algorithm == "kmeans" else "mean"
    centres = np.array([c[field] for c in model.clusters], dtype="float64")
    old_centre = np.array([c["centre"] for c in model.features])
    old_scale = np.array([c["scale"] for c in model.features])
    centre = np.array([c["centre"] for c in columns])
    scale = np.array([c["scale"] for c in columns])
    moved = ((centres * old_scale + old_centre) - centre) / scale
    return {"keys": keys, "centres": moved}, (N_("matched to the previous model's clusters"), {})


def _fit_kmeans(cls: Any, z: Array, k: int, seed: int, start: Array | None) -> dict[str, Any]:
    fresh = cls(n_clusters=k, n_init=N_INIT, random_state=seed).fit(z)
    chosen, init = fresh, "k-means++"
    if start is not None:
        kept = cls(n_clusters=k, init=start, n_init=1, random_state=seed).fit(z)
        if fresh.inertia_ >= kept.inertia_ * (1 - KEEP_PREVIOUS):
            chosen, init = kept, "previous centroids"
        else:
            init = "k-means++ (a fresh fit had 1% less inertia than from the previous centroids)"
    return {
        "centres": chosen.cluster_centers_,
        "init": init,
        "facts": {"inertia": float(chosen.inertia_), "iterations": int(chosen.n_iter_)},
    }


def _fit_gmm(
    cls: Any, z: Array, k: int, seed: int, covariance: str, start: Array | None
) -> dict[str, Any]:
    import numpy as np

    options = {
        "n_components": k,
        "covariance_type": covariance,
        "random_state": seed,
        "max_iter": 300,
    }
    fresh = cls(**options).fit(z)
    chosen, init = fresh, "k-means"
    if start is not None:
        kept = cls(**options, means_init=start).fit(z)
        if fresh.score(z) <= kept.score(z) + KEEP_PREVIOUS:
            chosen, init = kept, "previous means"
        else:
            init = "k-means (a fresh fit was 0.01 more likely per customer than from the previous)"
    precisions = chosen.precisions_cholesky_
    covariances = chosen.covariances_
    if covariance == "diag":
        precisions = np.stack([np.diag(p) for p in precisions])
        covariances = np.stack([np.diag(c) for c in covariances])
    return {
        "centres": chosen.means_,
        "weights": chosen.weights_,
        "covariances": covariances,
        "precisions": precisions,
        "init": init,
        "facts": {
            "bic": float(chosen.bic(z)),
            "converged": bool(chosen.converged_),
            "iterations": int(chosen.n_iter_),
        },
    }


def _log_constants(fitted: dict[str, Any], d: int) -> Array:
    """Per component: log weight + log det(precision Cholesky) - d/2 log(2 pi)."""
    import numpy as np

    dets = np.array([np.log(np.diag(p)).sum() for p in fitted["precisions"]])
    out: Array = np.log(fitted["weights"]) + dets - 0.5 * d * math.log(2 * math.pi)
    return out


def _costs(z: Array, fitted: dict[str, Any]) -> Array:
    """Per customer and cluster the cost minimised: squared distance, or -log weighted density.

    The same arithmetic as :func:`grade`, so the profiles describe the clusters graded.
    """
    import numpy as np

    centres = fitted["centres"]
    if "precisions" not in fitted:
        diff = z[:, None, :] - centres[None, :, :]
        out: Array = (diff * diff).sum(axis=2)
        return out
    q = np.stack(
        [
            (((z - mu) @ u) ** 2).sum(axis=1)
            for mu, u in zip(centres, fitted["precisions"], strict=True)
        ],
        axis=1,
    )
    out = 0.5 * q - _log_constants(fitted, z.shape[1])
    return out


def _profiles(
    scheme: ClusterSchemeSpec,
    names: list[str],
    raw: dict[str, Array],
    value: Array,
    labels: Any,
    k: int,
) -> list[dict[str, Any]]:
    """Per fitted cluster: size, share, mean and median of the value and of each indicator."""
    import numpy as np

    def stats(values: Array) -> dict[str, float | None]:
        known = values[~np.isnan(values)]
        if not len(known):
            return {"mean": None, "median": None}
        return {"mean": float(known.mean()), "median": float(np.median(known))}

    out = []
    for j in range(k):
        members = labels == j
        size = int(members.sum())
        worth = stats(value[members])
        out.append(
            {
                "size": size,
                "share": size / len(labels),
                "value_mean": worth["mean"],
                "value_median": worth["median"],
                "profile": {n: stats(raw[n][members]) for n in names},
            }
        )
    return out


def _keys(
    scheme: ClusterSchemeSpec,
    clusters: list[dict[str, Any]],
    fitted: dict[str, Any],
    previous: dict[str, Any] | None,
    assignment: Any,
    k: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Per fitted cluster its tier key, tier rank, value rank and match; and whether matched."""
    import numpy as np

    by_value = sorted(
        range(k),
        key=lambda j: (clusters[j]["value_mean"] is None, -(clusters[j]["value_mean"] or 0.0), j),
    )
    value_rank = {j: r for r, j in enumerate(by_value, start=1)}
    order = [t.key for t in tiers(scheme)]
    out: list[dict[str, Any]] = [{} for _ in range(k)]
    if previous is not None and len(previous["keys"]) == k:
        centres = fitted["centres"]
        gap = np.sqrt(((centres[:, None, :] - previous["centres"][None, :, :]) ** 2).sum(axis=2))
        rows, cols = assignment(gap)
        for j, p in zip(rows, cols, strict=True):
            key = previous["keys"][p]
            out[j] = {
                "key": key,
                "tier_rank": order.index(key) + 1,
                "value_rank": value_rank[j],
                "previous": {"key": key, "moved": float(gap[j, p])},
            }
        return out, True
    for j in range(k):
        key = order[value_rank[j] - 1]
        out[j] = {
            "key": key,
            "tier_rank": value_rank[j],
            "value_rank": value_rank[j],
            "previous": None,
        }
    return out, False


def _floats(values: Any) -> Any:
    return [_floats(v) for v in values] if hasattr(values, "__len__") else float(values)


def _num(value: float) -> str:
    return f"{value:g}"
