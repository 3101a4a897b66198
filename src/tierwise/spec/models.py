"""Pydantic models of ``tierwise.yaml``: sources, indicators, schemes and tiers.

Specs are data, not code: every model forbids unknown fields and is frozen, so a typo in a key is
an error with its line number rather than a silently ignored setting. The Python API takes the same
models.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from tierwise.spec.limits import as_of_problem, window_length_problem
from tierwise.spec.names import table_name_problem

IDENT = r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$"
ColumnType = Literal["string", "int", "float", "decimal", "date", "timestamp", "bool"]
WINDOW_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)\s*$")


def window_problem(value: str, *, like: str = "90d, 12w, 12m or 1y") -> str | None:
    """Why ``value`` is not a window length (``90d``, ``12m``, ...), or None when it is one."""
    match = WINDOW_RE.match(value)
    if match is None:
        return f"window {value!r} is not a length like {like}"
    return window_length_problem(int(match.group(1)), match.group(2), value)


class Spec(BaseModel):
    """Base of every spec model: unknown keys are errors, and specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Label(Spec):
    """A tier or scheme label in English and Simplified Chinese."""

    en: str
    zh: str | None = None

    def text(self, lang: str = "en") -> str:
        """The label in ``lang`` ("en" or "zh"), falling back to English."""
        return (self.zh or self.en) if lang == "zh" else self.en


def _label(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


# ----------------------------------------------------------------------------------------- sources


class ColumnSpec(Spec):
    """One column of a source after mapping: its source name, type and checks."""

    from_: str | None = Field(default=None, alias="from", description="column name in the file")
    type: ColumnType = "string"
    format: str | None = Field(default=None, description="strptime format for dates, e.g. %d/%m/%Y")
    required: bool = Field(default=True, description="null or empty values are errors")
    nonnegative: bool = Field(default=False, description="negative values are errors")


class SourceSpec(Spec):
    """A table the user owns: a file (CSV, Parquet, DuckDB) or a database table or query.

    ``customers`` is the entity source (one row per customer, ``id`` unique); every other source is
    an event source whose rows belong to a customer through ``id`` and happen at ``time``.
    """

    path: str | None = Field(default=None, description="file path, relative to the project")
    url: str | None = Field(default=None, description="SQLAlchemy URL of a database")
    table: str | None = Field(
        default=None,
        description="table in a DuckDB file or database: `name`, or `schema.name` (unquoted)",
    )
    query: str | None = Field(default=None, description="SQL query run on the database")
    format: Literal["csv", "parquet", "duckdb", "sql"] | None = None
    encoding: str = Field(default="auto", description="auto, utf-8, utf-8-sig, gbk, gb18030, ...")
    delimiter: str = ","
    decimal: Literal[".", ","] = "."
    id: str = Field(default="customer_id", description="column holding the customer id")
    time: str | None = Field(default=None, description="event date/time column of event sources")
    refunds: str | None = Field(
        default=None,
        description="condition marking refund rows, where negative amounts are allowed",
    )
    future_events: Literal["error", "ignore"] = Field(
        default="error", description="rows dated after the as-of date: an error, or ignored"
    )
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_location(self) -> SourceSpec:
        if not (self.path or self.url):
            raise ValueError(
                "a source needs `path` (a CSV, Parquet or DuckDB file) or `url` (a database)"
            )
        if self.path and self.url:
            raise ValueError("give either `path` or `url`, not both")
        if self.url and not (self.table or self.query):
            raise ValueError("a database source needs `table` or `query`")
        if self.table and self.query:
            raise ValueError("give either `table` or `query`, not both")
        if self.time is not None and self.columns and self.time not in self.columns:
            raise ValueError(f"time column {self.time!r} is not among the declared columns")
        if self.columns and self.id not in self.columns:
            raise ValueError(
                f"id column {self.id!r} is not among the declared columns; declare it or set `id:`"
            )
        return self

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        problem = None if value is None else table_name_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("columns")
    @classmethod
    def _names(cls, value: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        for name in value:
            # fullmatch: with match, IDENT's `$` also matches before a trailing newline.
            if not re.fullmatch(IDENT, name):
                raise ValueError(f"column name {name!r} is not an identifier (letters, digits, _)")
        return value

    def resolved_format(self) -> str:
        """The format, from ``format:`` or the file extension."""
        if self.format:
            return self.format
        if self.url:
            return "sql"
        suffix = (self.path or "").lower().rsplit(".", 1)[-1]
        return {
            "csv": "csv",
            "txt": "csv",
            "tsv": "csv",
            "parquet": "parquet",
            "pq": "parquet",
            "duckdb": "duckdb",
            "db": "duckdb",
        }.get(suffix, "csv")


# -------------------------------------------------------------------------------------- indicators

AggName = Literal[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "count_distinct",
    "first",
    "last",
    "days_since_first",
    "days_since_last",
]


class Window(Spec):
    """A window ending at the as-of date: the last ``length`` days, weeks, months or years.

    ``offset`` shifts the window back, e.g. ``length: 12m, offset: 12m`` is the year before last.
    """

    length: str
    offset: str | None = None

    @field_validator("length", "offset")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        problem = None if value is None else window_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class AggregateIndicatorSpec(Spec):
    """A windowed aggregate of an event source per customer."""

    source: str
    agg: AggName
    column: str | None = Field(default=None, description="column aggregated (not for count)")
    window: Window | None = None
    where: str | None = Field(default=None, description="filter on the source rows")
    default: float | None = Field(
        default=None, description="value for customers without events (count and sum: 0)"
    )
    description: str | None = None

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        return {"length": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _column_needed(self) -> AggregateIndicatorSpec:
        needs = self.agg not in ("count", "days_since_first", "days_since_last")
        if needs and not self.column:
            raise ValueError(f"agg {self.agg!r} needs `column:` (the column to aggregate)")
        return self


class AttributeIndicatorSpec(Spec):
    """A column of the customers source, taken as it is."""

    attribute: str
    default: Any | None = None
    description: str | None = None


class DerivedIndicatorSpec(Spec):
    """An expression over other indicators, in the safe expression language."""

    expr: str
    description: str | None = None


def _indicator_kind(value: Any) -> str:
    if isinstance(value, dict):
        for key, kind in (("agg", "aggregate"), ("attribute", "attribute"), ("expr", "derived")):
            if key in value:
                return kind
        return "aggregate"
    if isinstance(value, AttributeIndicatorSpec):
        return "attribute"
    return "derived" if isinstance(value, DerivedIndicatorSpec) else "aggregate"


IndicatorSpec = Annotated[
    Annotated[AggregateIndicatorSpec, Tag("aggregate")]
    | Annotated[AttributeIndicatorSpec, Tag("attribute")]
    | Annotated[DerivedIndicatorSpec, Tag("derived")],
    Discriminator(_indicator_kind),
]


# ----------------------------------------------------------------------------------------- schemes


class TierSpec(Spec):
    """One ordered level of a scheme. The first tier in the list is rank 1, the best."""

    key: str = Field(pattern=IDENT)
    label: Label | None = None
    description: str | None = None
    strategy: str | None = Field(default=None, description="what the business does for this tier")
    when: str | None = Field(default=None, description="rules: condition of this tier")
    min_score: float | None = Field(default=None, description="scorecard: lowest score of the tier")
    top_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="scorecard: cumulative share of customers from the top",
    )
    cumulative: float | None = Field(
        default=None, gt=0, le=1, description="abc: cumulative share where the class ends"
    )

    _label_in = field_validator("label", mode="before")(lambda cls, v: _label(v))

    def label_text(self, lang: str = "en") -> str:
        """The tier's label in ``lang``, or its key when no label is given."""
        return self.label.text(lang) if self.label else self.key


class StabilitySpec(Spec):
    """A scheme's stability policy: how the computed tier becomes the tier a customer holds.

    Runs are the scheme's official runs in as-of order. Each decision is shown in the grade's
    reasons, e.g. "held in gold: grace period 1 of 2".
    """

    upgrade_after: int = Field(
        default=1, ge=1, description="runs in a row above the held tier before an upgrade (1 = at once)"
    )
    downgrade_after: int = Field(
        default=1, ge=1,
        description="runs in a row below the held tier before a downgrade (the grace period)",
    )
    min_days_in_tier: int = Field(
        default=0, ge=0, description="days a customer keeps a tier before any downgrade"
    )
    cooldown_days: int = Field(default=0, ge=0, description="days between two tier changes")
    downgrade_margin: float = Field(
        default=0.0, ge=0.0, lt=1.0,
        description="rules and score cut-offs: a customer is below the held tier only when "
        "below its thresholds loosened by this share (0.1 = 10%)",
    )


class OverridePolicySpec(Spec):
    """How manual overrides of a scheme are governed."""

    require_approval: bool = Field(
        default=False, description="an override applies only once a second person approves it"
    )
    max_backdate_days: int = Field(
        default=31, ge=0, le=3660,
        description="how far before today an override may start; a backdated override always "
        "waits for a second person's approval",
    )


class SchemeBase(Spec):
    """Fields every scheme has, whatever its method."""

    label: Label | None = None
    description: str | None = None
    value: str | None = Field(
        default=None, description="value indicator summed per tier in reports"
    )
    stability: StabilitySpec | None = Field(
        default=None, description="grace periods, confirmations, cooldown (none: tiers as computed)"
    )
    overrides: OverridePolicySpec = Field(default_factory=OverridePolicySpec)

    _label_in = field_validator("label", mode="before")(lambda cls, v: _label(v))


class RulesSchemeSpec(SchemeBase):
    """Ordered tiers with conditions; the first matching tier wins; ``fallback`` catches the rest."""

    method: Literal["rules"]
    tiers: list[TierSpec] = Field(min_length=1)
    fallback: str = Field(description="key of the tier given to customers no rule matches")


class Normalize(Spec):
    """How a scorecard dimension maps its raw value onto 0..100 points."""

    method: Literal["minmax", "percentile", "zscore", "bins"] = "minmax"
    bins: list[tuple[float | None, float]] | None = Field(
        default=None, description="bins: [[lower bound or null, points], ...], ascending bounds"
    )
    cap: tuple[float | None, float | None] | None = Field(
        default=None, description="clip the raw value to [low, high] before normalising"
    )
    invert: bool = Field(default=False, description="lower raw values are better (e.g. recency)")

    @model_validator(mode="after")
    def _bins(self) -> Normalize:
        if self.method == "bins":
            if not self.bins:
                raise ValueError("method 'bins' needs `bins: [[lower, points], ...]`")
            lows = [low for low, _ in self.bins if low is not None]
            if lows != sorted(lows) or len(set(lows)) != len(lows):
                raise ValueError(f"bin lower bounds must strictly increase, got {lows}")
            if any(low is None for low, _ in self.bins[1:]):
                raise ValueError("only the first bin may have an open (null) lower bound")
        elif self.bins is not None:
            raise ValueError(f"`bins` only applies to method 'bins', not {self.method!r}")
        return self


class DimensionSpec(Spec):
    """One weighted dimension of a scorecard."""

    indicator: str
    weight: float = Field(gt=0)
    normalize: Normalize = Field(default_factory=Normalize)
    label: Label | None = None

    @field_validator("normalize", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"method": value} if isinstance(value, str) else value

    _label_in = field_validator("label", mode="before")(lambda cls, v: _label(v))


class ScorecardSchemeSpec(SchemeBase):
    """Weighted dimensions, each normalised to 0..100, summed into a 0..100 score."""

    method: Literal["scorecard"]
    dimensions: list[DimensionSpec] = Field(min_length=1)
    tiers: list[TierSpec] = Field(min_length=2)


class RfmSchemeSpec(SchemeBase):
    """Recency, frequency and monetary scores 1..n, an RFM code and a named segment map."""

    method: Literal["rfm"]
    recency: str = Field(description="indicator: days since the last purchase (lower is better)")
    frequency: str
    monetary: str
    scores: int = Field(default=5, ge=2, le=10)
    cuts: dict[Literal["recency", "frequency", "monetary"], list[float]] | None = Field(
        default=None, description="fixed ascending cut points instead of quantiles, per dimension"
    )
    segments: Literal["standard11", "cn8"] = "standard11"
    tiers: list[TierSpec] | None = Field(
        default=None, description="optional relabelling of the segment map's tiers (same keys)"
    )

    @model_validator(mode="after")
    def _cuts(self) -> RfmSchemeSpec:
        for dim, cuts in (self.cuts or {}).items():
            if len(cuts) != self.scores - 1:
                raise ValueError(
                    f"cuts.{dim} needs {self.scores - 1} cut points for {self.scores} scores, got {len(cuts)}"
                )
            if cuts != sorted(cuts) or len(set(cuts)) != len(cuts):
                raise ValueError(f"cuts.{dim} must strictly increase, got {cuts}")
        if self.segments == "standard11" and self.scores != 5:
            raise ValueError("the standard11 segment map is defined on 1..5 scores; set scores: 5")
        return self


class AbcSchemeSpec(SchemeBase):
    """Pareto classes by cumulative share of a value indicator, or by share of customers."""

    method: Literal["abc"]
    value: str = Field(description="value indicator ranked (e.g. spend_12m)")
    by: Literal["value", "customers"] = "value"
    tiers: list[TierSpec] = Field(min_length=2)


#: The most clusters a cluster scheme may have (``k`` and the top of ``k_range``).
MAX_CLUSTERS = 20


class ClusterSchemeSpec(SchemeBase):
    """Clusters of customers learned from their indicators, ranked by the mean of a value.

    The clusters are fitted on the feature table (k-means or a Gaussian mixture, see
    :mod:`tierwise.methods.cluster_fit`) and named by the mean of ``value`` per cluster, best first:
    ``tiers`` label them in that order, or the tiers are generated as ``c1`` .. ``ck``.
    """

    method: Literal["cluster"]
    indicators: list[str] = Field(min_length=1, description="indicators the clusters are fitted on")
    algorithm: Literal["kmeans", "gmm"] = Field(
        default="kmeans", description="kmeans, or gmm (a Gaussian mixture)"
    )
    k: int | None = Field(
        default=None,
        ge=2,
        le=MAX_CLUSTERS,
        description="number of clusters; null: chosen in k_range (silhouette for kmeans, BIC for gmm)",
    )
    k_range: tuple[int, int] | None = Field(
        default=None, description="[least, most] clusters tried when k is null (default [2, 8])"
    )
    transform: dict[str, Literal["log1p", "none"]] | None = Field(
        default=None, description="per indicator: log1p (signed) or none; overrides `log`"
    )
    log: bool = Field(default=False, description="log1p-transform every indicator")
    scale: Literal["standard", "robust", "none"] = Field(
        default="standard",
        description="standard (mean, standard deviation), robust (median, IQR) or none",
    )
    covariance: Literal["full", "diag"] | None = Field(
        default=None, description="gmm: covariance of each component (default full)"
    )
    seed: int = Field(default=0, ge=0, description="seed of the sample and of the fit")
    value: str = Field(description="value indicator: clusters are ranked by its mean, best first")
    tiers: list[TierSpec] | None = Field(
        default=None,
        description="labels of the clusters in value order (needs a fixed k; default c1..ck)",
    )
    sample: int = Field(
        default=200_000, ge=20, description="most customers the clusters are fitted on (seeded)"
    )

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        twice = sorted({n for n in value if value.count(n) > 1})
        if twice:
            raise ValueError(f"indicator {twice[0]!r} is listed twice; list each indicator once")
        return value

    @field_validator("k_range")
    @classmethod
    def _range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None:
            low, high = value
            if not 2 <= low <= high <= MAX_CLUSTERS:
                raise ValueError(
                    f"k_range must be [least, most] with 2 <= least <= most <= {MAX_CLUSTERS}, "
                    f"got [{low}, {high}]"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ClusterSchemeSpec:
        if self.k is not None and self.k_range is not None:
            raise ValueError(
                "give `k` (a fixed number of clusters) or `k_range` (the numbers tried), not both"
            )
        for name in self.transform or {}:
            if name not in self.indicators:
                raise ValueError(
                    f"transform names {name!r}, which is not among the clustered `indicators` "
                    f"({', '.join(self.indicators)}); add it there or remove the transform"
                )
        if self.covariance is not None and self.algorithm != "gmm":
            raise ValueError("`covariance` applies to algorithm gmm only; remove it for kmeans")
        if self.tiers is not None:
            if self.k is None:
                raise ValueError(
                    "`tiers` label the clusters in value order, so they need a fixed `k`; set "
                    f"k: {len(self.tiers)} or remove `tiers` (generated tiers are c1..ck)"
                )
            if len(self.tiers) != self.k:
                raise ValueError(
                    f"tiers: {len(self.tiers)} tier{'s' if len(self.tiers) != 1 else ''} for "
                    f"k: {self.k} clusters; give one tier per "
                    "cluster, best (highest mean value) first"
                )
            for i, tier in enumerate(self.tiers):
                used = [f for f in ("when", "min_score", "top_share", "cumulative")
                        if getattr(tier, f) is not None]
                if used:
                    raise ValueError(
                        f"tiers[{i}].{used[0]}: a cluster tier takes no threshold (its customers "
                        "are those nearest its cluster); remove it"
                    )
        if self.stability is not None and self.stability.downgrade_margin > 0:
            raise ValueError(
                "stability.downgrade_margin needs fixed thresholds, but method 'cluster' assigns "
                "each customer to the nearest learned cluster, so there is no threshold to "
                "loosen; remove `downgrade_margin` and use `downgrade_after: 2` instead"
            )
        return self

    def clusters_range(self) -> tuple[int, int]:
        """The numbers of clusters tried: ``(k, k)`` when fixed, else ``k_range`` ([2, 8])."""
        if self.k is not None:
            return (self.k, self.k)
        return self.k_range or (2, 8)

    def transform_of(self, indicator: str) -> Literal["log1p", "none"]:
        """The transform of a clustered indicator (``transform``, else ``log``)."""
        given = (self.transform or {}).get(indicator)
        if given is not None:
            return given
        return "log1p" if self.log else "none"


class ClvSchemeSpec(SchemeBase):
    """Customer lifetime value from a buy-till-you-die model and Gamma-Gamma spend.

    The indicators give each customer's history: purchase occasions, days since the first and
    the last purchase, spend so far (and optionally the first purchase's spend, to average the
    repeat purchases only, as Gamma-Gamma was published). See :mod:`tierwise.methods.clv`.
    """

    method: Literal["clv"]
    model: Literal["bgnbd", "paretonbd"] = Field(
        default="bgnbd", description="transaction model: BG/NBD or Pareto/NBD"
    )
    purchases: str = Field(description="indicator: purchase occasions so far (e.g. distinct days)")
    first: str = Field(description="indicator: days since the first purchase (days_since_first)")
    last: str = Field(description="indicator: days since the last purchase (days_since_last)")
    spend: str = Field(description="indicator: spend over the same history")
    first_spend: str | None = Field(
        default=None, description="indicator: the first purchase's spend (agg: first)"
    )
    horizon: str = Field(default="12m", description="future valued, e.g. 12m or 39w")
    discount_rate: float = Field(
        default=0.01, ge=0, lt=1, description="monthly discount rate of the CLV (0.01 ~ 12.7%/year)"
    )
    unit_days: int = Field(default=7, ge=1, le=31, description="days in the model's time unit")
    rank_by: Literal["clv", "p_alive", "expected_purchases", "predicted_value"] = Field(
        default="clv", description="the figure the tiers cut (p_alive for churn risk)"
    )
    interval_rows: int = Field(
        default=20_000, ge=0,
        description="90% CLV intervals when there are at most this many distinct summaries",
    )
    seed: int = Field(default=0, ge=0, description="seed of the interval's parameter draws")
    penalizer: float = Field(
        default=0.0, ge=0, description="L2 penalty on the parameters, for data the models barely "
        "identify (e.g. no dropout seen yet); 0 is plain maximum likelihood",
    )
    tiers: list[TierSpec] = Field(min_length=2)

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        problem = window_problem(value, like="90d, 39w, 12m or 1y")
        if problem is not None:
            raise ValueError(problem.replace("window", "horizon", 1))
        return value


class ModelTargetSpec(Spec):
    """What a ``model`` scheme learns: expert labels, or a future outcome's top share."""

    labels: str | None = Field(
        default=None, description="indicator with expert-assigned tier keys (training rows: "
        "customers with a label)",
    )
    outcome: str | None = Field(
        default=None, description="aggregate indicator whose window is the horizon: learn who "
        "reaches its top `top_share` over the next window",
    )
    top_share: float = Field(default=0.2, gt=0, lt=1, description="outcome: the top share")
    event: Literal["top", "none"] = Field(
        default="top", description="outcome: `top` learns who reaches its top share; `none` "
        "learns who has none of it over the window (churn: e.g. no order in 90 days)",
    )

    @model_validator(mode="after")
    def _one(self) -> ModelTargetSpec:
        if (self.labels is None) == (self.outcome is None):
            raise ValueError("give the target as `labels:` (an indicator of tier keys) or as "
                             "`outcome:` (an aggregate indicator), exactly one of them")
        return self


class ModelSchemeSpec(SchemeBase):
    """Tiers from a supervised classifier (scikit-learn), trained on every run's data.

    See :mod:`tierwise.methods.model`. With ``labels`` the tiers are the labels' classes (each
    customer gets the most probable); with ``outcome`` they cut the probability of reaching the
    outcome's top share by ``min_score`` or ``top_share``.
    """

    method: Literal["model"]
    features: list[str] = Field(min_length=1, description="indicators the model reads")
    target: ModelTargetSpec
    algorithm: Literal["gradient_boosting", "logistic"] = "gradient_boosting"
    calibration: Literal["sigmoid", "isotonic"] = Field(
        default="sigmoid", description="how probabilities are calibrated (cross-validated)"
    )
    folds: int = Field(default=5, ge=2, le=20, description="cross-validation folds")
    seed: int = Field(default=0, ge=0)
    tiers: list[TierSpec] = Field(min_length=2)


SchemeSpec = Annotated[
    RulesSchemeSpec
    | ScorecardSchemeSpec
    | RfmSchemeSpec
    | AbcSchemeSpec
    | ClusterSchemeSpec
    | ClvSchemeSpec
    | ModelSchemeSpec,
    Field(discriminator="method"),
]


# ----------------------------------------------------------------------------------------- project


class EngineSpec(Spec):
    """Which engine computes: the embedded DuckDB (default) or Spark."""

    kind: Literal["duckdb", "spark"] = "duckdb"
    path: str | None = Field(default=None, description="DuckDB database file; in memory when unset")
    master: str = Field(default="local[2]", description="Spark master URL")
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = Field(default=None, description="DuckDB memory limit, e.g. 8GB")


class RateSpec(Spec):
    """How many requests of one kind a client may make per minute (a token bucket)."""

    per_minute: int = Field(ge=1, le=1_000_000)
    burst: int | None = Field(
        default=None, ge=1, le=1_000_000,
        description="requests allowed at once before the rate applies (default: per_minute)")


class SecuritySpec(Spec):
    """Sign-in, session and request limits of the service and the command line.

    The defaults follow common guidance (OWASP ASVS 2.2 and 3.3): lock an account after a few
    failed logins for a while, end idle sessions, give API tokens an expiry, and answer floods
    with ``429 Too Many Requests`` before any password is hashed.
    """

    lockout_after: int = Field(
        default=5, ge=1, le=1000,
        description="failed logins for one user name within the window that lock it")
    address_lockout_after: int = Field(
        default=20, ge=1, le=100_000,
        description="failed logins from one client address within the window that lock it")
    lockout_window_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    lockout_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60,
                                 description="how long a lock lasts")
    session_hours: int = Field(default=12, ge=1, le=24 * 30,
                               description="a session ends this long after login")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60,
                                      description="a session unused this long ends")
    token_days: int = Field(default=90, ge=1, le=3650,
                            description="default lifetime of new API tokens")
    max_body_kb: int = Field(default=1024, ge=1, le=1024 * 1024,
                             description="largest request body the service reads")
    search_timeout_seconds: float = Field(
        default=5.0, gt=0, le=600,
        description="time limit of one customer search from the dashboard or the API")
    preview_timeout_seconds: float = Field(
        default=120.0, gt=0, le=3600,
        description="time limit of one impact preview (it grades every customer twice)")
    login_rate: RateSpec = Field(
        default_factory=lambda: RateSpec(per_minute=10, burst=10),
        description="login attempts per client address")
    expensive_rate: RateSpec = Field(
        default_factory=lambda: RateSpec(per_minute=60, burst=20),
        description="searches, exports, previews and run starts per user and per address")
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="addresses of reverse proxies whose X-Forwarded-For header names the client "
        "(tierwise serve hands them to the server); others cannot set their address")


class ProjectSpec(Spec):
    """The whole of ``tierwise.yaml``."""

    name: str
    description: str | None = None
    engine: EngineSpec = Field(default_factory=EngineSpec)
    as_of: date | None = Field(default=None, description="default as-of date for runs")
    output: str = "output"
    store: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store (default: sqlite file .tierwise/store.db; "
        "the TIERWISE_STORE_URL environment variable wins)",
    )
    security: SecuritySpec = Field(default_factory=SecuritySpec)
    sources: dict[str, SourceSpec]
    indicators: dict[str, IndicatorSpec] = Field(default_factory=dict)
    schemes: dict[str, SchemeSpec] = Field(default_factory=dict)

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, value: date | None) -> date | None:
        problem = None if value is None else as_of_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value
