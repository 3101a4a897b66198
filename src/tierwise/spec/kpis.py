"""KPIs in tierwise.yaml: what each tier should achieve in the period after a run.

A tolerance band per tier marks the tier for review when a value leaves it.

A KPI belongs to a scheme. ``indicator`` KPIs measure an indicator of the project as of the
scheme's next official run (its window makes the period: ``orders_1m`` counts the month after
the run): ``mean``, ``sum``, or ``rate`` (the share of the tier's customers with a value above
zero, a repurchase rate). ``retention``, ``up`` and ``down`` need no indicator: the share of the
tier's customers who are in the same tier, a better one, or a worse one at the next run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tierwise.i18n import _
from tierwise.spec.base import Label, Spec, as_label

Measure = Literal["mean", "sum", "rate", "retention", "up", "down"]
#: Measures that read an indicator.
OF_INDICATOR = ("mean", "sum", "rate")


class KpiSpec(Spec):
    """One KPI of a scheme's tiers, with a tolerance band per tier."""

    scheme: str
    measure: Measure
    indicator: str | None = Field(default=None, description="for mean, sum and rate")
    label: Label | None = None
    bands: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="tier -> [low, high]: outside it the tier is marked "
        "for review")

    @model_validator(mode="before")
    @classmethod
    def _label(cls, value: object) -> object:
        if isinstance(value, dict) and "label" in value:
            return {**value, "label": as_label(value["label"])}
        return value

    @model_validator(mode="after")
    def _needs(self) -> KpiSpec:
        if self.measure in OF_INDICATOR and not self.indicator:
            raise ValueError(_("a {measure} KPI needs `indicator:`").format(measure=self.measure))
        if self.measure not in OF_INDICATOR and self.indicator:
            raise ValueError(_("a {measure} KPI reads no indicator; remove `indicator:`").format(
                measure=self.measure))
        for tier, (low, high) in self.bands.items():
            if low > high:
                raise ValueError(_("the band of {tier} runs from {low} down to {high}; write "
                                   "[low, high]").format(tier=tier, low=low, high=high))
        return self
