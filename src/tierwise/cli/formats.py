"""Numbers, shares, dates, yes/no and labels as the command line writes them, per language.

Counts and amounts use the language's grouping (:func:`tierwise.i18n.number`). Dates stay
ISO ``2026-06-30`` in English, the form the options take and scripts read, and read
``2026年6月30日`` in Chinese (:func:`tierwise.i18n.date`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

from tierwise import i18n
from tierwise.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from tierwise.i18n import Labelled
    from tierwise.spec.schemes import TierSpec
    from tierwise.spec.sections import SchemeSpec


def num(value: float | None, digits: int = 0) -> str:
    """A count or an amount, ``digits`` decimals, grouped; ``-`` when there is none."""
    return i18n.number(value, digits)


def pct(value: float | None, empty: str = "-") -> str:
    """A share (0.123) as a percentage (12.3%); ``empty`` when there is none."""
    return empty if value is None else i18n.percent(value)


def day(value: date | None) -> str:
    """A date: ISO in English, the language's long form in Chinese; empty when there is none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if i18n.current() == "en" else i18n.date(value)


def when_due(days: int) -> str:
    """How far a due date is from the day asked: ``days`` overdue (positive) or left."""
    if days > 0:
        return ngettext("{days} day overdue", "{days} days overdue", days).format(days=days)
    if days < 0:
        return ngettext("in {days} day", "in {days} days", -days).format(days=-days)
    return _("today")


def moment(value: datetime | None, *, seconds: bool = False) -> str:
    """A date and time of day; empty when there is none."""
    if value is None:
        return ""
    clock = f"{value:%H:%M:%S}" if seconds else f"{value:%H:%M}"
    return f"{day(value)} {clock}"


def yes(flag: bool, no: str = "") -> str:
    """``yes`` in the current language when ``flag``, else ``no``."""
    return _("yes") if flag else no


def indicator(indicators: Mapping[str, object], name: str) -> str:
    """The name people read for the indicator ``name``: its ``label:``, else the name."""
    labels: Labelled | None = getattr(indicators.get(name), "label", None)
    return i18n.label_of(labels, name)


#: Words of the store that a person reads in listings (statuses, kinds of moves, sources of a
#: tier); scripts read the same values from the API or the files, untranslated.
WORDS = {
    "done": N_("done"), "failed": N_("failed"), "running": N_("running"),
    "superseded": N_("superseded"), "skipped": N_("skipped"), "abandoned": N_("abandoned"),
    "pending": N_("pending"), "active": N_("active"), "rejected": N_("rejected"),
    "revoked": N_("revoked"), "expired": N_("expired"), "approved": N_("approved"),
    "pin": N_("pin"), "floor": N_("floor"), "ceiling": N_("ceiling"), "exclude": N_("exclude"),
    "up": N_("up"), "down": N_("down"), "entry": N_("entry"), "exit": N_("exit"),
    "same": N_("same"), "computed": N_("computed"), "held": N_("held"),
    "override": N_("override"), "overridden": N_("overridden"), "policy": N_("policy"),
    "admin": N_("admin"), "supervisor": N_("supervisor"), "manager": N_("manager"),
    "auditor": N_("auditor"), "compliance": N_("compliance officer"),
    "schedule": N_("scheduled"), "live": N_("live"), "rollback": N_("rollback"),
    "activate": N_("activate"), "error": N_("error"), "info": N_("info"),
}


def word(value: str | None) -> str:
    """A status or kind from the store in the current language; other values as they are."""
    if value is None:
        return ""
    known = WORDS.get(value)
    return _(known) if known else value


def tiers_of(scheme: SchemeSpec) -> list[TierSpec]:
    """The tiers of ``scheme``, best first, as its method lists them."""
    from tierwise.services.resolved import ResolvedScheme

    return list(ResolvedScheme.of("", scheme).tiers)


def tier_names(scheme: SchemeSpec) -> dict[str, str]:
    """The label of each tier of ``scheme`` in Chinese; empty in English, which shows the keys.

    English listings keep the keys that the options (``--tier``) and scripts use.
    """
    lang = i18n.current()
    if lang == "en":
        return {}
    return {t.key: t.label_text(lang) for t in tiers_of(scheme)}
