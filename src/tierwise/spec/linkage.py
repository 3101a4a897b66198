"""The ``linkage:`` section: one customer across several systems' customer tables.

```yaml
linkage:
  systems:                         # each system's customer source, with its own ids
    shop: {source: shop_members, events: [shop_orders]}   # events: graded over linked
    app: {source: app_users, events: [app_orders]}        # customers (see below)
    store: {source: store_members, events: [store_sales]}
  fields:                          # columns compared; each system names them the same
    name: name                     # (`from:` in a source's columns renames one)
    mobile: phone
    email: email
    id_card: id
    address: address
  match: 0.95                      # linked at or above this match probability
  review: 0.5                      # between review and match: a person decides
```

When systems list their ``events:``, the project grades linked customers: ``sources.customers``
is left out and is the latest linkage version's customers (``<output>/linkage/v0003/
customers.parquet``, the version named in ``<output>/linkage/CURRENT``; one row per linked
customer with every record id in ``source_ids``), and each event source's ids are mapped to
the linked customer at read time.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tierwise.i18n import N_, _, label_of
from tierwise.spec.base import IDENT, Label, Spec, as_label

FieldKind = Literal["name", "phone", "email", "id", "address", "date", "text"]
# Kinds on which two records that agree are likely one customer: each is blocked on by
# default, and at least one must be compared.
IDENTIFYING: tuple[str, ...] = ("name", "phone", "email", "id")
#: Columns every record has beside its fields (sources/linkage.py), so no field may be named so.
RESERVED = frozenset({"unique_id", "system", "source_id", "customer_id", "records",
                      "match_probability"})
#: The folder of the version graded, in the linked customers' path: reads put the version's
#: folder (named in the file :data:`POINTER`) in its place.
CURRENT = "current"
#: The file naming the linkage version graded (``v0003``), written once the store has it.
POINTER = "CURRENT"
#: The linked customers' file in a version's folder, and the id column of it.
CUSTOMERS_FILE = "customers.parquet"
MAPPING_FILE = "mapping.parquet"
LINKED_ID = "customer_id"
#: Columns of the linked customers file beside the systems' own columns.
LINKED_COLUMNS = ("customer_id", "source_ids", "systems")
#: What people call each kind, for a field without a label.
KIND_WORDS = {"name": N_("full name"), "phone": N_("phone number"),
              "email": N_("email address"), "id": N_("ID number"),
              "address": N_("postal address"), "date": N_("date"), "text": N_("text")}


class LinkFieldSpec(Spec):
    """A compared column: its kind chooses the normal form and the comparison levels."""

    kind: FieldKind
    label: Label | None = None

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))


class LinkSystemSpec(Spec):
    """A system's customer table: a source of ``sources:`` with one row per customer."""

    source: str = Field(description="the system's customer source (one row per customer)")
    events: list[str] = Field(
        default_factory=list, description="the system's event sources, whose customer ids are "
        "this system's ids: graded over the linked customers")
    label: Label | None = None

    _label_in = field_validator("label", mode="before")(lambda cls, v: as_label(v))


class LinkageSpec(Spec):
    """Probabilistic record linkage of the systems' customers (splink, Fellegi-Sunter)."""

    systems: dict[str, LinkSystemSpec] = Field(min_length=1)
    fields: dict[str, LinkFieldSpec] = Field(min_length=1)
    blocking: list[list[str]] | None = Field(
        default=None, description="pairs compared: those equal on every field of a rule "
        "(default: one rule per name, phone, email and id field)")
    match: float = Field(default=0.95, gt=0, lt=1,
                         description="match probability at or above which records are linked")
    review: float = Field(default=0.5, gt=0, lt=1,
                          description="match probability from which a pair goes to review")
    region: str = Field(default="CN", description="country of phone numbers written without "
                        "a country code (ISO 3166 code, e.g. CN, HK, TW)")
    seed: int = Field(default=1, description="seed of the training's random pairs")

    @field_validator("fields", mode="before")
    @classmethod
    def _kind_alone(cls, value: object) -> object:
        # `mobile: phone` for `mobile: {kind: phone}`.
        if isinstance(value, dict):
            return {k: {"kind": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("systems", "fields")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            if not re.fullmatch(IDENT, name):
                raise ValueError(_("{name!r} is not a name; use letters, digits and _").format(
                    name=name))
        return value

    @field_validator("fields")
    @classmethod
    def _not_reserved(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            if name in RESERVED or name.endswith(("_pinyin", "_keys")):
                raise ValueError(_(
                    "field {name!r} would take the place of a column linkage adds ({reserved}, "
                    "or a name ending in _pinyin or _keys); rename the column with `from:` in "
                    "the source").format(name=name, reserved=_(", ").join(sorted(RESERVED))))
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError(_("region {value!r} is not a two-letter country code such as CN, "
                               "HK or TW").format(value=value))
        return value.upper()

    @model_validator(mode="after")
    def _consistent(self) -> LinkageSpec:
        if self.review >= self.match:
            raise ValueError(_(
                "review ({review}) must be below match ({match}): pairs from review up to "
                "match go to a person").format(review=self.review, match=self.match))
        sources = [s.source for s in self.systems.values()]
        twice = sorted({s for s in sources if sources.count(s) > 1})
        if twice:
            raise ValueError(_(
                "source {source!r} is named by several systems; each system has its own "
                "customer source, or its records would be linked to themselves").format(
                source=twice[0]))
        events = [e for s in self.systems.values() for e in s.events]
        shared = sorted({e for e in events if events.count(e) > 1} | (set(events) & set(sources)))
        if shared:
            raise ValueError(_(
                "source {source!r} is listed twice among the systems' sources and events; an "
                "event source belongs to one system, whose ids its rows carry").format(
                source=shared[0]))
        if not any(f.kind in IDENTIFYING for f in self.fields.values()):
            raise ValueError(_("compare at least one field of kind name, phone, email or id; "
                               "addresses, dates and text alone do not identify a customer"))
        for rule in self.blocking or []:
            if not rule:
                raise ValueError(_("a blocking rule lists at least one field"))
            for name in rule:
                if name not in self.fields:
                    raise ValueError(_(
                        "blocking field {name!r} is not among `fields:` ({known})").format(
                        name=name, known=_(", ").join(self.fields)))
        return self

    def field_title(self, name: str) -> str:
        """What people call a compared field: its label, else its kind (and its column)."""
        found = self.fields.get(name)
        if found is None:
            return name
        if found.label is not None:
            return label_of(found.label, name)
        kind = _(KIND_WORDS[found.kind])
        return kind if name == found.kind else f"{kind} ({name})"

    def system_title(self, name: str) -> str:
        """What people call a system: its label, else its name."""
        found = self.systems.get(name)
        return label_of(found.label if found else None, name)

    @property
    def grades_linked(self) -> bool:
        """Whether the project grades linked customers: some system lists its events."""
        return any(s.events for s in self.systems.values())

    def system_of(self, source: str) -> str | None:
        """The system whose ``events:`` lists ``source``, or None."""
        return next((name for name, s in self.systems.items() if source in s.events), None)

    def blocking_rules(self) -> list[list[str]]:
        """The rules as given, or one rule per identifying field."""
        if self.blocking is not None:
            return self.blocking
        return [[name] for name, f in self.fields.items() if f.kind in IDENTIFYING]
