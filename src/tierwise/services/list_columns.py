"""The columns of the customer list: customer attributes, indicators, tier, since and change.

A column has a stable key that pages, links and exports use:

* ``a.<column>``: a column of the project's ``customers`` source (name, phone, city ...), with
  the label the source declares for it;
* ``i.<indicator>``: an indicator the scheme's run computed, with the indicator's label;
* ``tier``: the tier held in the run; ``since``: the date the customer entered it (from the
  history); ``change``: how the tier moved since the previous official run (:data:`CHANGES`).

The customer id is always shown and is not a choice. Names and phones are found by the source
column's name (:data:`NAME_COLUMNS`, :data:`PHONE_COLUMNS`): the list searches them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tierwise.i18n import N_, _, label_of
from tierwise.spec.models import ProjectSpec

ATTRIBUTE = "a."
INDICATOR = "i."
TIER = "tier"
SINCE = "since"
CHANGE = "change"

#: How a tier moved since the previous official run, in the order the list sorts them.
CHANGES = ("up", "down", "status_entry", "status_exit", "entry", "same")
CHANGE_WORDS = {
    "up": N_("up"),
    "down": N_("down"),
    "status_entry": N_("into a status"),
    "status_exit": N_("out of a status"),
    "entry": N_("new"),
    "same": N_("unchanged"),
}

#: Source columns that hold a customer's name, searched by the list (the first one found is
#: shown by default).
NAME_COLUMNS = ("name", "full_name", "customer_name", "display_name", "contact_name",
                "company", "company_name")
#: Source columns that hold a phone number, searched as digits (``+86`` ignored).
PHONE_COLUMNS = ("phone", "mobile", "telephone", "tel", "phone_number", "mobile_phone",
                 "mobile_number", "cellphone")
#: Rows per page the list offers.
PAGE_SIZES = (25, 50, 100)
#: Indicators shown by default.
DEFAULT_INDICATORS = 2


@dataclass(frozen=True)
class ListColumn:
    """One column the list can show.

    Attributes:
        key: the stable key (``a.name``, ``i.spend_12m``, ``tier``, ``since``, ``change``).
        label: its header in the current language.
        kind: how its values read: ``text``, ``number``, ``date``, ``bool``, ``tier`` or
            ``change``.
        group: ``attribute``, ``indicator`` or ``grade`` (for the column picker).

    """

    key: str
    label: str
    kind: str
    group: str


def change_word(kind: str | None) -> str:
    """A change kind as people read it, in the current language ("" for none)."""
    return _(CHANGE_WORDS[kind]) if kind in CHANGE_WORDS else ""


def kind_of(dtype: object) -> str:
    """``number``, ``date``, ``bool`` or ``text`` for an engine data type."""
    if getattr(dtype, "is_numeric", lambda: False)():
        return "number"
    if getattr(dtype, "is_temporal", lambda: False)():
        return "date"
    if getattr(dtype, "is_boolean", lambda: False)():
        return "bool"
    return "text"


def columns_of(spec: ProjectSpec, attributes: Mapping[str, str],
               indicators: Mapping[str, str]) -> list[ListColumn]:
    """Every column the list can show, labelled in the current language.

    Args:
        spec: the project (labels of the customers source's columns and of indicators).
        attributes: customer attribute column -> kind, as the list table holds them.
        indicators: indicator -> kind, as the run's features hold them.

    """
    source = spec.sources.get("customers")
    declared = source.columns if source is not None else {}
    out = [ListColumn(TIER, _("Tier"), "tier", "grade"),
           ListColumn(SINCE, _("In tier since"), "date", "grade"),
           ListColumn(CHANGE, _("Change since the previous run"), "change", "grade")]
    for name, kind in attributes.items():
        column = declared.get(name)
        out.append(ListColumn(ATTRIBUTE + name, label_of(column.label if column else None, name),
                              kind, "attribute"))
    for name, kind in indicators.items():
        indicator = spec.indicators.get(name)
        label = label_of(getattr(indicator, "label", None), name)
        out.append(ListColumn(INDICATOR + name, label, kind, "indicator"))
    return out


def default_columns(available: Sequence[ListColumn], key_indicators: Sequence[str]
                    ) -> list[str]:
    """Name, tier, since, change and the first two key indicators, as far as they exist.

    ``key_indicators``: the scheme's indicators, most telling first (its value measure).
    """
    keys = {c.key for c in available}
    names = [ATTRIBUTE + n for n in NAME_COLUMNS if ATTRIBUTE + n in keys][:1]
    shown = [INDICATOR + n for n in key_indicators if INDICATOR + n in keys]
    return [*names, TIER, SINCE, CHANGE, *list(dict.fromkeys(shown))[:DEFAULT_INDICATORS]]


def chosen(asked: Sequence[str], available: Sequence[ListColumn],
           defaults: Sequence[str]) -> list[ListColumn]:
    """The columns asked for that exist, in the list's order; the defaults when none do."""
    by_key = {c.key: c for c in available}
    picked = [by_key[k] for k in dict.fromkeys(asked) if k in by_key]
    return picked or [by_key[k] for k in defaults if k in by_key]


def id_header() -> str:
    """The customer id column's header in the current language."""
    return _("Customer")


def name_column(attributes: Sequence[str]) -> str | None:
    """The customer attribute that holds the name, if any."""
    return next((n for n in NAME_COLUMNS if n in attributes), None)


def phone_columns(attributes: Sequence[str]) -> list[str]:
    """The customer attributes that hold phone numbers."""
    return [n for n in PHONE_COLUMNS if n in attributes]


#: A search text that reads as a phone number: digits with blanks, dashes, dots, brackets, +.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]+$")
#: Fewer digits than this are not searched as a phone (every number holds some digit pair).
MIN_PHONE_DIGITS = 4


def phone_digits(text: str) -> str:
    """A phone number as digits only, the China prefix (``+86``, ``0086``, ``86``) dropped.

    ``+86 138-0013-8000``, ``0086 13800138000`` and ``8613800138000`` all give
    ``13800138000``; a bare ``86`` is dropped only before 11 digits (a mobile number).
    """
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def phone_query(text: str) -> str | None:
    """The digits to look for in phone numbers, or None when ``text`` is not a phone number."""
    if not _PHONE_LIKE.match(text.strip()):
        return None
    digits = phone_digits(text)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None

