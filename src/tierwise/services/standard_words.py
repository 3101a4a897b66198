"""The classification standard's sentences: indicator definitions, units and the review policy.

Everything is worded in the current language (:mod:`tierwise.i18n`); indicators are named by
their labels where the caller set them (:func:`tierwise.methods.wording.indicator_labels`).
"""

from __future__ import annotations

from collections.abc import Mapping

from tierwise import expr, i18n
from tierwise.i18n import _, ngettext
from tierwise.methods import wording
from tierwise.methods.condition_words import Unit, words
from tierwise.methods.criteria import period
from tierwise.spec.models import (
    AggregateIndicatorSpec,
    AttributeIndicatorSpec,
    IndicatorSpec,
)
from tierwise.spec.schemes import SchemeBase

_ISO_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def unit(spec: IndicatorSpec) -> Unit:
    """The unit of an indicator's values: its ``unit:``, else days for a recency or tenure."""
    given = spec.unit.text(i18n.current()) if spec.unit else None
    if spec.unit and _is_currency(spec.unit.en):
        return Unit(currency=spec.unit.en)
    if given:
        return Unit(word=given)
    if isinstance(spec, AggregateIndicatorSpec) and spec.agg.startswith("days_since"):
        return Unit(word=_("days"))
    return Unit()


def _is_currency(code: str) -> bool:
    from babel.numbers import is_currency

    return len(code) == 3 and set(code) <= _ISO_CODE and is_currency(code)


def unit_text(value: Unit) -> str:
    """A unit as a table column shows it: the currency code or the unit word."""
    return value.currency or value.word or ""


def definition(spec: IndicatorSpec, sources: Mapping[str, str]) -> str:
    """How an indicator is computed, in words (``sources``: source name -> its label)."""
    if isinstance(spec, AttributeIndicatorSpec):
        return _("The customer's {column}, as the customers source gives it.").format(
            column=spec.attribute)
    if not isinstance(spec, AggregateIndicatorSpec):
        return _("Computed from other indicators: {expression}.").format(
            expression=wording.condition(expr.parse(spec.expr)))
    source = sources.get(spec.source, spec.source)
    column = spec.column or ""
    what = {
        "count": _("Number of {source} records"),
        "count_distinct": _("Number of distinct {column} in {source}"),
        "sum": _("Sum of {column} in {source}"),
        "avg": _("Average {column} in {source}"),
        "min": _("Smallest {column} in {source}"),
        "max": _("Largest {column} in {source}"),
        "first": _("First {column} in {source}"),
        "last": _("Latest {column} in {source}"),
        "days_since_first": _("Days since the first {source} record"),
        "days_since_last": _("Days since the latest {source} record"),
    }[spec.agg].format(source=source, column=column)
    if spec.window is None:
        window = _("over the whole history")
    elif spec.window.offset:
        window = _("over {length} ending {offset} before the as-of date").format(
            length=period(spec.window.length), offset=period(spec.window.offset))
    else:
        window = _("over the last {length}").format(length=period(spec.window.length))
    if spec.where:
        return _("{what}, counting only records where {condition}, {window}.").format(
            what=what, condition=words(expr.parse(spec.where)), window=window)
    return _("{what}, {window}.").format(what=what, window=window)


def policy(scheme: SchemeBase) -> list[tuple[str, str]]:
    """The review policy as (topic, sentence) pairs: stability, then manual changes."""
    out: list[tuple[str, str]] = []
    rule = scheme.stability
    if rule is None:
        out.append((_("Review"), _("Every run sets each customer's class as computed: no "
                                   "confirmation, grace period or minimum stay.")))
    else:
        out.append((_("Upgrades"), _("An upgrade takes effect at once.")
                    if rule.upgrade_after == 1 else ngettext(
            "An upgrade takes effect after {n} run in a row above the held class.",
            "An upgrade takes effect after {n} runs in a row above the held class.",
            rule.upgrade_after).format(n=rule.upgrade_after)))
        out.append((_("Downgrades"), _("A downgrade takes effect at once.")
                    if rule.downgrade_after == 1 else ngettext(
            "A downgrade takes effect after {n} run in a row below the held class (a grace "
            "period).",
            "A downgrade takes effect after {n} runs in a row below the held class (a grace "
            "period).", rule.downgrade_after).format(n=rule.downgrade_after)))
        if rule.min_days_in_tier:
            out.append((_("Minimum stay"), ngettext(
                "A customer keeps a class at least {n} day before any downgrade.",
                "A customer keeps a class at least {n} days before any downgrade.",
                rule.min_days_in_tier).format(n=rule.min_days_in_tier)))
        if rule.cooldown_days:
            out.append((_("Cooldown"), ngettext(
                "At least {n} day passes between two class changes.",
                "At least {n} days pass between two class changes.",
                rule.cooldown_days).format(n=rule.cooldown_days)))
        if rule.downgrade_margin:
            out.append((_("Downgrade margin"), _(
                "A customer falls below the held class only when below its thresholds "
                "loosened by {margin}.").format(margin=i18n.percent(rule.downgrade_margin, 0))))
    governance = scheme.overrides
    out.append((_("Manual changes"), _(
        "A manual class change applies only once a second person approves it.")
        if governance.require_approval else _(
        "A manual class change applies at once; a backdated one waits for a second person's "
        "approval.")))
    out.append((_("Backdating"), ngettext(
        "A manual change may start at most {n} day before the day it is made.",
        "A manual change may start at most {n} days before the day it is made.",
        governance.max_backdate_days).format(n=governance.max_backdate_days)))
    return out


__all__ = ["definition", "policy", "unit", "unit_text"]
