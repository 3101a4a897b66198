"""Assembling the classification standard of a scheme version, worded in the current language.

The method says its scheme in words (:meth:`tierwise.methods.protocol.Method.criteria`), with
indicators named by their labels and values in their units; the tiers come in value order (the
ladder best first, then the statuses); the policy and indicator sentences come from
:mod:`tierwise.services.standard_words`.
"""

from __future__ import annotations

from collections.abc import Mapping

from tierwise import i18n
from tierwise.i18n import _
from tierwise.methods import method_of, wording
from tierwise.methods.condition_words import indicator_units
from tierwise.reports.standard import ClassEntry, IndicatorEntry, Standard, VersionFacts
from tierwise.services import standard_words
from tierwise.spec.columns import PREVIOUS_TIER
from tierwise.spec.ladder import Ladder
from tierwise.spec.models import IndicatorSpec, SchemeSpec


def build(scheme: str, spec: SchemeSpec, indicators: Mapping[str, IndicatorSpec], *,
          facts: VersionFacts, sources: Mapping[str, str]) -> Standard:
    """The standard of ``spec`` (stored as version ``facts.number`` of ``scheme``).

    ``indicators`` are the definitions stored with the version; ``sources`` the labels of the
    project's sources (name -> label) where known.
    """
    lang = i18n.current()
    labels = {n: i18n.label_of(s.label, n) for n, s in indicators.items()}
    labels.setdefault(PREVIOUS_TIER, _("tier in the previous run"))
    units = {n: standard_words.unit(s) for n, s in indicators.items()}
    method = method_of(spec)
    with wording.indicator_labels(labels), indicator_units(units):
        criteria = method.criteria(spec)
        listed = tuple(
            IndicatorEntry(n, labels[n], standard_words.definition(indicators[n], sources),
                           standard_words.unit_text(units[n]),
                           i18n.label_of(indicators[n].description, "") or None)
            for n in _used(spec, indicators))
        policy = tuple(standard_words.policy(spec))
    label = spec.label.text(lang) if spec.label else scheme
    return Standard(
        lang=lang, title=_("Customer classification standard: {scheme}").format(scheme=label),
        scheme=scheme, scheme_label=label, description=spec.description_text(lang),
        method=(_("Method: {method}.").format(method=wording.method_name(spec.method)),
                *criteria.method),
        classes=_classes(spec, criteria.tiers, facts.counts), policy=policy,
        indicators=listed, facts=facts)


def _used(spec: SchemeSpec, indicators: Mapping[str, IndicatorSpec]) -> list[str]:
    """The scheme's own indicators first, then those they are computed from."""
    direct = [n for n in method_of(spec).indicators(spec) if n in indicators]
    return [*direct, *(n for n in sorted(indicators) if n not in direct)]


def _classes(spec: SchemeSpec, criteria: Mapping[str, str],
             counts: Mapping[str, int] | None) -> tuple[ClassEntry, ...]:
    lang = i18n.current()
    ladder = Ladder.of(method_of(spec).tiers(spec))
    total = sum(counts.values()) if counts else 0
    out = []
    for tier in ladder.tiers:
        rank = ladder.rank(tier.key)
        customers = None if counts is None else counts.get(tier.key, 0)
        out.append(ClassEntry(
            key=tier.key, label=tier.label_text(lang), rank=rank or None,
            definition=tier.description_text(lang), criteria=criteria.get(tier.key),
            strategy=tier.strategy_text(lang), customers=customers,
            share=customers / total if customers is not None and total else None))
    return tuple(out)


__all__ = ["build"]
