"""Words the dashboard shows for stored codes: roles, sources, statuses, kinds, settings.

The store keeps codes (``manager``, ``override``, ``pending``); a page shows them in the reader's
language through :func:`word`. The texts are gettext messages of the ``web`` catalogue, marked
with ``N_`` here and translated when a page is rendered (:mod:`tierwise.i18n`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tierwise import i18n
from tierwise.i18n import N_, _
from tierwise.services import access, audit_trail, kpis
from tierwise.services import actions as action_service
from tierwise.services.records import METHOD_NAMES, STATUS_NAMES
from tierwise.web import method_forms

#: Each group of codes and the words for them, in English (the msgids).
WORDS: dict[str, dict[str, str]] = {
    "role": access.ROLE_NAMES,
    # How a grade's tier was reached.
    "source": {"computed": N_("computed"), "policy": N_("held by the stability policy"),
               "override": N_("override")},
    "status": STATUS_NAMES,
    "kind": {"pin": N_("pin to a tier"), "floor": N_("at least a tier"),
             "ceiling": N_("at most a tier"), "exclude": N_("exclude from tiers")},
    "lead": {"not_found": N_("Not found."), "forbidden": N_("You may not open this page."),
             "error": N_("Something went wrong."),
             "bad_request": N_("The form was incomplete or invalid."),
             "csrf": N_("The form expired or did not come from this site; reload the page and "
                        "retry.")},
    "stability": {"upgrade_after": N_("Upgrade after (runs in a row)"),
                  "downgrade_after": N_("Downgrade after (runs in a row)"),
                  "min_days_in_tier": N_("Minimum days in a tier"),
                  "cooldown_days": N_("Days between two tier changes"),
                  "downgrade_margin": N_("Downgrade margin (share, 0.1 = 10%)")},
    # What the audit and access logs record, and of what.
    "action": audit_trail.ACTION_NAMES,
    "object": audit_trail.OBJECT_NAMES,
    "method": METHOD_NAMES,
    # A background run (Run now) and what it did for each scheme.
    "job": {"queued": N_("waiting"), "running": N_("running"), "done": N_("done"),
            "skipped": N_("skipped"), "failed": N_("failed")},
    "cadence": {"monthly": N_("monthly"), "weekly": N_("weekly"), "daily": N_("daily")},
    # The method forms' settings and choices (web/method_forms.py).
    "setting": method_forms.SETTING_NAMES,
    "choice": {**method_forms.CHOICE_NAMES, "value": N_("value")},
    # Actions: their kinds, edges, ledger states and KPI measures.
    "action_kind": action_service.KIND_NAMES,
    "edge": action_service.EDGE_NAMES,
    "ledger": action_service.LEDGER_NAMES,
    "measure": kpis.MEASURE_NAMES,
}

#: The languages the switcher offers, each named in its own language.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}


def word(group: str, code: str | None) -> str:
    """The word for ``code`` of ``group`` in the current language; the code itself if unknown."""
    if code is None:
        return ""
    text = WORDS.get(group, {}).get(code)
    return _(text) if text is not None else code


def day(value: date | None) -> str:
    """A date in the current language (2026年6月30日); empty for None."""
    return "" if value is None else i18n.date(value)


def moment(value: datetime | None, seconds: bool = False) -> str:
    """A stored time (UTC; naive values are UTC) as the current language writes the date."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    clock = f"{value:%H:%M:%S}" if seconds else f"{value:%H:%M}"
    return f"{i18n.date(value.date())} {clock} UTC"


def number(value: float | int | None, digits: int = 0) -> str:
    """A number with the current language's grouping and ``digits`` decimals; empty for None."""
    return "" if value is None else i18n.number(value, digits)


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage with ``digits`` decimals (one); empty for None."""
    return "" if share is None else i18n.percent(share, digits)
