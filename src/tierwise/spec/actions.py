"""Actions in tierwise.yaml: what a scheme's tiers trigger, for whom, on which edge.

An action belongs to one scheme and fires on an edge of a customer's tier between the previous
run and this one (``on``): entering one of ``tiers``, leaving one, an upgrade or a downgrade, or
staying in one for ``runs`` runs in a row. A condition on the run's indicators (``where``)
narrows who. A ``holdout`` share of the customers, chosen by a hash of customer and action (so
stable across runs and independent of the tier), gets nothing and is recorded as the control
group. A ``budget`` caps how many customers an action reaches per run or per calendar month,
highest ``value`` first.

A ``follow_up`` gives each customer reached a task for a person: its owner (an indicator such as
the deal owner) and its due date (working days after the run, or days ahead of a date such as
the expected purchase). ``tierwise tasks`` lists the open ones per owner.

Kinds: ``webhook`` (a signed JSON POST), ``email`` (through the project's SMTP server),
``file`` (a CSV, Excel or Parquet drop per run), ``assign`` (account managers) and ``tag`` (a
customer tag). Each kind has its own block of settings named as the kind.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tierwise.i18n import _
from tierwise.spec.base import Label, Spec, as_label
from tierwise.spec.calendar import CalendarSpec

ActionKind = Literal["webhook", "email", "file", "assign", "tag"]
Edge = Literal["enter", "leave", "up", "down", "stay"]
#: Kinds and the name of their settings block (the same as the kind).
KINDS: tuple[str, ...] = ("webhook", "email", "file", "assign", "tag")


class WebhookSpec(Spec):
    """A JSON POST per customer, signed with HMAC-SHA256."""

    url: str = Field(description="http(s) URL the payloads are posted to")
    secret_env: str = Field(
        description="environment variable holding the signing secret (never the secret itself)")
    retries: int = Field(default=5, ge=0, le=20, description="tries after the first one")
    backoff_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="wait before the first retry; doubled each time")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    per_minute: int = Field(default=600, ge=1, le=100_000, description="rate limit of posts")

    @model_validator(mode="after")
    def _http(self) -> WebhookSpec:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(_("webhook url {url} must start with http:// or https://").format(
                url=repr(self.url)))
        return self


class EmailSpec(Spec):
    """A message per customer through the project's SMTP server (``smtp:``)."""

    to: str = Field(description="customers source column holding the address")
    subject: Label = Field(description="subject: text or {en, zh, zh-Hant}")
    body: Label = Field(
        description="body: text or {en, zh, zh-Hant}; {column} takes the customer's attribute, "
        "{customer_id}, {from_tier} and {to_tier} the move")
    language: str | None = Field(
        default=None, description="customers source column holding each customer's language "
        "(en, zh, zh-Hant, zh-TW ...); default: the project's language")
    retries: int = Field(default=3, ge=0, le=20, description="tries after the first one")
    backoff_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="wait before the first retry; doubled")

    _texts = field_validator("subject", "body", mode="before")(lambda cls, v: as_label(v))


class SmtpSpec(Spec):
    """The SMTP server email actions send through."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from", description="the From address")
    starttls: bool = Field(default=False, description="upgrade the connection with STARTTLS")
    ssl: bool = Field(default=False, description="connect with TLS from the start (port 465)")
    username_env: str | None = Field(
        default=None, description="environment variable holding the login name")
    password_env: str | None = Field(
        default=None, description="environment variable holding the password")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class FileSpec(Spec):
    """One file per run with the customers the action reached."""

    format: Literal["csv", "xlsx", "parquet"] = "csv"
    folder: str = Field(default="actions", description="folder, relative to the project")

    @field_validator("folder")
    @classmethod
    def _inside(cls, value: str) -> str:
        parts = PurePosixPath(value.replace("\\", "/")).parts
        if not value.strip() or value.startswith(("/", "\\")) or ":" in value or ".." in parts:
            raise ValueError(_("file folder {folder} must be a folder inside the project, "
                               "written relative to it (e.g. exports/coupons)").format(
                folder=repr(value)))
        return value


class ManagerSpec(Spec):
    """One account manager an assign action may give customers to."""

    territories: list[str] = Field(
        default_factory=list, description="territories they serve (empty: every territory)")
    capacity: int | None = Field(default=None, ge=1, le=1_000_000,
                                 description="their own most accounts (default: the action's)")


class AssignSpec(Spec):
    """Account-manager assignment of the customers the action reaches.

    A customer keeps their manager when that manager serves their territory and has room;
    otherwise the least loaded manager who serves it takes them (see actions/assign.py).
    """

    managers: dict[str, ManagerSpec] = Field(
        min_length=1, description="user names of the managers (role manager), with their "
        "territories and capacity")
    capacity: int = Field(ge=1, le=1_000_000,
                          description="at most this many accounts of the action's tiers each")
    territory: str | None = Field(
        default=None, description="customers source column holding the customer's territory")
    approval: bool = Field(
        default=False, description="reassignments (a customer moving from one manager to "
        "another, or losing theirs) wait for a supervisor's approval; new accounts and kept "
        "managers take effect at once")

    @field_validator("managers", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, list):  # a plain list of user names
            return {str(v): {} for v in value}
        return value


class TagSpec(Spec):
    """A customer tag, visible in the API, the exports and the dashboard."""

    name: str = Field(min_length=1, max_length=60)


class FollowUpSpec(Spec):
    """A task for a person with each customer the action reaches: what to do, by whom, by when.

    The due date is ``within_days`` working days after the run's as-of date, or ``days_before``
    days before the date in the ``before`` indicator (never before the as-of date: a date
    already that close is due at once). A customer whose ``before`` date is missing gets
    ``within_days`` when it is given, else is due on the as-of date.
    """

    task: Label = Field(description="what to do: text or {en, zh, zh-Hant}")
    owner: str | None = Field(
        default=None, description="indicator holding the person responsible (e.g. the deal "
        "owner); customers without one are listed as unassigned")
    within_days: int | None = Field(
        default=None, ge=0, le=250, description="working days after the run's as-of date")
    before: str | None = Field(
        default=None, description="date indicator the task is due ahead of (e.g. the expected "
        "purchase date)")
    days_before: int = Field(default=30, ge=0, le=366,
                             description="calendar days before the `before` date")
    calendar: CalendarSpec = Field(default_factory=CalendarSpec,
                                   description="working days for `within_days`")

    _task_in = field_validator("task", mode="before")(lambda cls, v: as_label(v))

    @model_validator(mode="after")
    def _when(self) -> FollowUpSpec:
        if self.before is None and "days_before" in self.model_fields_set:
            raise ValueError(_("`days_before:` counts ahead of the `before:` date, and this "
                               "follow-up has none; add `before:` (a date indicator) or remove "
                               "`days_before:`"))
        if self.within_days is None and self.before is None:
            raise ValueError(_("a follow-up needs a due date: `within_days:` (working days "
                               "after the run) or `before:` (a date indicator, with "
                               "`days_before:`)"))
        return self


class EffectSpec(Spec):
    """How the action's effect is measured against its control group, a run later."""

    outcome: str = Field(description="the indicator compared, e.g. orders_1m (a number)")
    rate: bool = Field(default=False, description="compare the shares of customers with the "
                       "outcome above zero (e.g. who bought again), not the means")


class BudgetSpec(Spec):
    """How many customers an action may reach; the highest value first when more qualify."""

    per_run: int | None = Field(default=None, ge=0)
    per_month: int | None = Field(default=None, ge=0)
    order_by: str | None = Field(
        default=None, description="indicator ranking who gets it (default: the scheme's value)")


class ActionSpec(Spec):
    """What fires, for whom, on which edge of a scheme's tiers."""

    scheme: str
    kind: ActionKind
    on: Edge = Field(description="enter, leave, up, down or stay")
    tiers: list[str] = Field(
        default_factory=list,
        description="tiers the edge is about (enter/leave/stay: the tier; up/down: the new tier);"
        " empty: any tier")
    runs: int = Field(default=2, ge=2, le=100, description="stay: runs in a row in the tier")
    where: str | None = Field(default=None, description="condition on the run's indicators")
    holdout: float = Field(default=0.0, ge=0.0, lt=1.0,
                           description="share of customers kept as the control group")
    budget: BudgetSpec | None = None
    effect: EffectSpec | None = Field(
        default=None, description="the outcome `tierwise kpi` measures against the holdout")
    label: Label | None = Field(default=None, description="name shown to people: text or "
                                "{en, zh, zh-Hant}")
    follow_up: FollowUpSpec | None = Field(
        default=None, description="a task for a person with each customer reached, with its "
        "owner and due date (listed by `tierwise tasks`, carried in files and webhooks)")
    webhook: WebhookSpec | None = None
    email: EmailSpec | None = None
    file: FileSpec | None = None
    assign: AssignSpec | None = None
    tag: TagSpec | None = None

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))

    @model_validator(mode="after")
    def _settings(self) -> ActionSpec:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if self.kind in ("webhook", "email", "assign", "tag") and self.kind not in given:
            raise ValueError(_("a {kind} action needs its `{kind}:` settings").format(
                kind=self.kind))
        others = [k for k in given if k != self.kind]
        if others:
            raise ValueError(_("a {kind} action has settings for {others}; remove them or "
                               "change `kind:`").format(kind=self.kind, others=_(", ").join(others)))
        return self

    def settings(self) -> WebhookSpec | EmailSpec | FileSpec | AssignSpec | TagSpec:
        """The settings block of the action's kind (a file action's defaults when omitted)."""
        found = getattr(self, self.kind)
        return found if found is not None else FileSpec()


def holdout_point(action: str, customer_id: str) -> float:
    """A customer's place in [0, 1) for ``action``: the same on every run and machine.

    A customer is in the action's control group when their place is below ``holdout``: a hash
    of action and customer, so the group is stable across runs and independent of the tier.
    """
    digest = hashlib.blake2b(f"{action}\x1f{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
