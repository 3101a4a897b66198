"""Pydantic models of ``tierwise.yaml``: sources, indicators, engine, security and the project.

Specs are data, not code: every model forbids unknown fields and is frozen, so a typo in a key is
an error with its line number rather than a silently ignored setting. The Python API takes the same
models. The scheme sections live in :mod:`tierwise.spec.schemes` and :mod:`tierwise.spec.learned`;
:data:`SchemeSpec` (:mod:`tierwise.spec.sections`) validates one through the table of methods.
Their names are re-exported here so ``from tierwise.spec.models import RulesSchemeSpec`` works.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from tierwise.i18n import _, normalize
from tierwise.spec.actions import ActionSpec, SmtpSpec
from tierwise.spec.base import IDENT, WINDOW_RE, Label, Spec, as_label, window_problem
from tierwise.spec.kpis import KpiSpec
from tierwise.spec.learned import (
    MAX_CLUSTERS,
    ClusterSchemeSpec,
    ClvSchemeSpec,
    ModelSchemeSpec,
    ModelTargetSpec,
)
from tierwise.spec.limits import as_of_problem
from tierwise.spec.linkage import (
    CURRENT,
    CUSTOMERS_FILE,
    LINKED_COLUMNS,
    LINKED_ID,
    LinkageSpec,
)
from tierwise.spec.names import table_name_problem
from tierwise.spec.risk import RiskLevelSpec, RiskSchemeSpec
from tierwise.spec.schemes import (
    AbcSchemeSpec,
    DimensionSpec,
    Normalize,
    OverridePolicySpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    SchemeBase,
    ScorecardSchemeSpec,
    StabilitySpec,
    TierSpec,
)
from tierwise.spec.sections import SchemeSpec

ColumnType = Literal["string", "int", "float", "decimal", "date", "timestamp", "bool"]


# ----------------------------------------------------------------------------------------- sources


class ColumnSpec(Spec):
    """One column of a source after mapping: its source name, type and checks."""

    from_: str | None = Field(default=None, alias="from", description="column name in the file")
    type: ColumnType = "string"
    format: str | None = Field(default=None, description="strptime format for dates, e.g. %d/%m/%Y")
    required: bool = Field(default=True, description="null or empty values are errors")
    nonnegative: bool = Field(default=False, description="negative values are errors")
    label: Label | None = Field(default=None, description="name shown to people: text or {en, zh, zh-Hant}")

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))


class SourceSpec(Spec):
    """A table the user owns: a file (CSV, Parquet, DuckDB) or a database table or query.

    ``customers`` is the entity source (one row per customer, ``id`` unique); every other source is
    an event source whose rows belong to a customer through ``id`` and happen at ``time``.
    """

    label: Label | None = Field(default=None, description="name shown to people: text or {en, zh, zh-Hant}")
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
                _("a source needs `path` (a CSV, Parquet or DuckDB file) or `url` (a database)")
            )
        if self.path and self.url:
            raise ValueError(_("give either `path` or `url`, not both"))
        if self.url and not (self.table or self.query):
            raise ValueError(_("a database source needs `table` or `query`"))
        if self.table and self.query:
            raise ValueError(_("give either `table` or `query`, not both"))
        if self.time is not None and self.columns and self.time not in self.columns:
            raise ValueError(_("time column {column} is not among the declared columns; declare it "
                               "under `columns:`").format(column=repr(self.time)))
        if self.columns and self.id not in self.columns:
            raise ValueError(
                _("id column {column} is not among the declared columns; declare it or set "
                  "`id:`").format(column=repr(self.id))
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
                raise ValueError(_("column name {name} is not an identifier; use letters, digits "
                                   "and _").format(name=repr(name)))
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

#: What ``unit:`` of an indicator means (a display field: it never changes a grade).
_DESCRIPTION = "what it measures, for people: text or {en, zh, zh-Hant}"
_UNIT = ("unit of the values, shown to people: an ISO 4217 currency code (CNY, USD: amounts "
         "read ¥5,000), or a word, text or {en, zh, zh-Hant} (e.g. {en: orders, zh: 笔})")

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
    label: Label | None = Field(default=None, description="name shown to people: text or {en, zh, zh-Hant}")
    description: Label | None = Field(default=None, description=_DESCRIPTION)
    unit: Label | None = Field(default=None, description=_UNIT)

    _label_in = field_validator("label", "description", "unit", mode="before")(
        lambda cls, v: as_label(v))

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        return {"length": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _column_needed(self) -> AggregateIndicatorSpec:
        needs = self.agg not in ("count", "days_since_first", "days_since_last")
        if needs and not self.column:
            raise ValueError(_("agg {agg} needs `column:` (the column to aggregate)").format(
                agg=repr(self.agg)))
        return self


class AttributeIndicatorSpec(Spec):
    """A column of the customers source, taken as it is."""

    attribute: str
    default: Any | None = None
    label: Label | None = Field(default=None, description="name shown to people: text or {en, zh, zh-Hant}")
    description: Label | None = Field(default=None, description=_DESCRIPTION)
    unit: Label | None = Field(default=None, description=_UNIT)

    _label_in = field_validator("label", "description", "unit", mode="before")(
        lambda cls, v: as_label(v))


class DerivedIndicatorSpec(Spec):
    """An expression over other indicators, in the safe expression language."""

    expr: str
    label: Label | None = Field(default=None, description="name shown to people: text or {en, zh, zh-Hant}")
    description: Label | None = Field(default=None, description=_DESCRIPTION)
    unit: Label | None = Field(default=None, description=_UNIT)

    _label_in = field_validator("label", "description", "unit", mode="before")(
        lambda cls, v: as_label(v))


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




# ----------------------------------------------------------------------------------------- project


# local, local[4], local[*], local[4,2]; spark://h:7077 (or h1:7077,h2:7077 for standby masters);
# yarn; k8s://https://host:443; session: the session already running in the process.
SPARK_MASTER_RE = re.compile(
    r"local(\[(\*|\d+)(,\d+)?\])?|spark://[\w.-]+:\d+(,[\w.-]+:\d+)*|yarn|k8s://\S+"
    r"|session")


class EngineSpec(Spec):
    """Which engine computes: the embedded DuckDB (default) or Spark."""

    kind: Literal["duckdb", "spark"] = "duckdb"
    path: str | None = Field(default=None, description="DuckDB database file; in memory when unset")
    master: str = Field(
        default="local[2]", description="Spark master: local[N], spark://host:7077, yarn, "
        "k8s://https://host:443, or session (the session already running in the process)")
    config: dict[str, str] = Field(
        default_factory=dict, description="Spark settings for the session, e.g. "
        "spark.executor.memory: 4g (keys start with spark.)")
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = Field(
        default=None, description="DuckDB memory limit, e.g. 8GB (default: a fifth of the "
        "machine's memory, at least 2GB); beyond it DuckDB spills to the temporary folder")

    @field_validator("master")
    @classmethod
    def _master_known(cls, value: str) -> str:
        if not SPARK_MASTER_RE.fullmatch(value):
            raise ValueError(_(
                "master {value!r} is not a Spark master; write local[2] (this machine, two "
                "cores), spark://host:7077 (a standalone cluster), yarn, "
                "k8s://https://host:443 (Kubernetes), or session (the session already running "
                "in this process, e.g. on Databricks)").format(value=value))
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _config_as_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for key in value:
            if not isinstance(key, str) or not key.startswith("spark."):
                raise ValueError(_(
                    "config key {key!r} is not a Spark setting; keys start with spark. (e.g. "
                    "spark.executor.memory)").format(key=key))
        # YAML reads `spark.executor.cores: 2` as a number and `true` as a boolean: Spark
        # takes text, and its booleans are lower case.
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()
                if v is not None}

    @model_validator(mode="after")
    def _config_for_spark(self) -> EngineSpec:
        if self.config and self.kind != "spark":
            raise ValueError(_("`config:` holds Spark settings; this engine is {kind}: remove "
                               "`config:` or set `kind: spark`").format(kind=self.kind))
        return self


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


class ReportingSpec(Spec):
    """What the results overview and the API's summary report beside each tier's customers."""

    value: str | None = Field(
        default=None,
        description="numeric indicator summed per tier as its value (e.g. spend_12m); default: "
        "the scheme's own value indicator (`value:`, RFM's monetary, ABC's value)")


class ProjectSpec(Spec):
    """The whole of ``tierwise.yaml``."""

    name: str
    description: str | None = None
    language: str = Field(
        default="en",
        description="language of texts for people when no --lang, TIERWISE_LANG or browser "
        "choice says otherwise: en, zh-Hans (zh) or zh-Hant (zh-TW, zh-HK)")
    engine: EngineSpec = Field(default_factory=EngineSpec)
    as_of: date | None = Field(default=None, description="default as-of date for runs")
    output: str = "output"
    incremental: bool = Field(
        default=False,
        description="keep per-customer aggregates between runs (in <output>/.state), so a "
        "re-grade reads only new Parquet files; the grades equal a full run's",
    )
    store: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store (default: sqlite file .tierwise/store.db; "
        "the TIERWISE_STORE_URL environment variable wins)",
    )
    security: SecuritySpec = Field(default_factory=SecuritySpec)
    reporting: ReportingSpec = Field(default_factory=ReportingSpec)
    sources: dict[str, SourceSpec]
    indicators: dict[str, IndicatorSpec] = Field(default_factory=dict)
    schemes: dict[str, SchemeSpec] = Field(default_factory=dict)
    actions: dict[str, ActionSpec] = Field(
        default_factory=dict, description="what the schemes' tiers trigger (spec/actions.py)")
    smtp: SmtpSpec | None = Field(default=None, description="the server email actions use")
    kpis: dict[str, KpiSpec] = Field(
        default_factory=dict, description="what each tier should achieve (spec/kpis.py)")
    linkage: LinkageSpec | None = Field(
        default=None, description="one customer across several systems (spec/linkage.py)")

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        lang = normalize(value)
        if lang is None:
            raise ValueError(_("language {tag} is not supported; use en, zh-Hans (zh) or "
                               "zh-Hant (zh-TW, zh-HK)").format(tag=repr(value)))
        return lang

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, value: date | None) -> date | None:
        problem = None if value is None else as_of_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _linked_customers(self) -> ProjectSpec:
        # Graded over linked customers: the customers are the latest linkage version's.
        if (self.linkage is not None and self.linkage.grades_linked
                and "customers" not in self.sources):
            customers = linked_customers(self)  # from the systems' sources: before clearing
            given = dict(self.sources)
            self.sources.clear()
            self.sources.update({"customers": customers, **given})
            # Every grade names its records: the features of every run carry them.
            self.indicators.setdefault(LINKED_RECORDS, AttributeIndicatorSpec(
                attribute=LINKED_RECORDS, label=_LINKED_LABELS[LINKED_RECORDS],
                description=_LINKED_DESCRIPTION))
        return self


#: The indicator (and linked customers' column) naming every record of a linked customer.
LINKED_RECORDS = "source_ids"
_LINKED_DESCRIPTION = {
    "en": "The customer's member ids in each system, as system:id (record linkage)",
    "zh": "该客户在各系统中的会员编号（系统:编号，由记录关联得出）",
    "zh-Hant": "該客戶在各系統中的會員編號（系統:編號，由記錄關聯得出）"}


_LINKED_LABELS: dict[str, dict[str, str]] = {
    "customers": {"en": "Linked customers", "zh": "关联客户", "zh-Hant": "關聯客戶"},
    "customer_id": {"en": "Customer", "zh": "客户", "zh-Hant": "客戶"},
    "source_ids": {"en": "Records in the systems", "zh": "各系统中的记录",
                   "zh-Hant": "各系統中的記錄"},
    "systems": {"en": "Systems", "zh": "系统", "zh-Hant": "系統"},
}


def linked_customers(project: ProjectSpec) -> SourceSpec:
    """The customers source of a project graded over linked customers.

    The latest linkage version's file: one row per linked customer, its record ids
    (``shop:S01, app:A07``) in ``source_ids``, the systems in ``systems``, and the systems'
    own columns (dates the earliest, other values the first system's that has one). Its
    columns are declared when every system's source declares its own.
    """
    assert project.linkage is not None
    # The version graded is named in <output>/linkage/CURRENT; reads put its folder in the
    # place of `current` (services/reading.py).
    path = f"{project.output}/linkage/{CURRENT}/{CUSTOMERS_FILE}"
    columns: dict[str, ColumnSpec] = {
        name: ColumnSpec(type="string", required=name == LINKED_ID,
                         label=_LINKED_LABELS[name])
        for name in LINKED_COLUMNS}
    systems = [project.sources.get(s.source) for s in project.linkage.systems.values()]
    if not all(s is not None and s.columns for s in systems):
        return SourceSpec(path=path, format="parquet", id=LINKED_ID,
                          label=_LINKED_LABELS["customers"])
    for source in systems:
        assert source is not None
        for name, column in source.columns.items():
            if name == source.id or name in LINKED_COLUMNS:
                continue
            seen = columns.get(name)
            kind = column.type if seen is None or seen.type == column.type else "string"
            label = column.label if seen is None else seen.label
            columns[name] = ColumnSpec(type=kind, required=False, label=label)
    return SourceSpec(path=path, format="parquet", id=LINKED_ID,
                      label=_LINKED_LABELS["customers"], columns=columns)


__all__ = [
    "IDENT",
    "LINKED_RECORDS",
    "MAX_CLUSTERS",
    "WINDOW_RE",
    "AbcSchemeSpec",
    "AggregateIndicatorSpec",
    "AttributeIndicatorSpec",
    "ClusterSchemeSpec",
    "ClvSchemeSpec",
    "ColumnSpec",
    "ColumnType",
    "DerivedIndicatorSpec",
    "DimensionSpec",
    "EngineSpec",
    "IndicatorSpec",
    "Label",
    "ModelSchemeSpec",
    "ModelTargetSpec",
    "Normalize",
    "OverridePolicySpec",
    "ProjectSpec",
    "RateSpec",
    "ReportingSpec",
    "RfmSchemeSpec",
    "RiskLevelSpec",
    "RiskSchemeSpec",
    "RulesSchemeSpec",
    "SchemeBase",
    "SchemeSpec",
    "ScorecardSchemeSpec",
    "SecuritySpec",
    "SourceSpec",
    "Spec",
    "StabilitySpec",
    "TierSpec",
    "Window",
    "window_problem",
]
