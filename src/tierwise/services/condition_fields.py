"""The indicators a condition builder offers: name, label, help text, type, and whether a share.

The builder lists every indicator of the project by its label in the user's language with its
description as help, and reads typed values by the indicator's type (``30%`` only for a share).
"""

from __future__ import annotations

from dataclasses import dataclass

from tierwise import expr, i18n
from tierwise.errors import ExprError
from tierwise.expr.ast import Arith, Call
from tierwise.services.grading import Project
from tierwise.spec.models import AggregateIndicatorSpec, DerivedIndicatorSpec
from tierwise.spec.validate import indicator_types

#: Name endings that mark an indicator as a share of 0 to 1 (``repeat_rate``, ``online_share``).
SHARE_ENDINGS = ("_share", "_rate", "_ratio", "_pct")


@dataclass(frozen=True)
class ConditionField:
    """An indicator as the builder offers it.

    Attributes:
        name: The indicator's name, as conditions write it.
        label: Its label in the current language (the name when it has none).
        description: What it measures, or None.
        kind: Its expression type: ``number``, ``date``, ``string`` or ``bool``.
        share: A number from 0 to 1 (a ratio): ``30%`` reads as 0.3.
        money: A sum of a source's column (a spend or an amount): what a value share sums.

    """

    name: str
    label: str
    description: str | None
    kind: str
    share: bool
    money: bool


def condition_fields(project: Project) -> dict[str, ConditionField]:
    """Every indicator of the project by name, in its declared order, in the current language."""
    types = indicator_types(project.spec)
    out: dict[str, ConditionField] = {}
    for name, spec in project.spec.indicators.items():
        out[name] = ConditionField(
            name=name, label=i18n.label_of(spec.label, name),
            description=i18n.label_of(spec.description, "") or None,
            kind=types.get(name, "number"), share=is_share(name, spec),
            money=isinstance(spec, AggregateIndicatorSpec) and spec.agg == "sum")
    return out


def is_share(name: str, spec: object) -> bool:
    """Whether an indicator is a share: a ratio expression, or a name ending as a share does."""
    if name.lower().endswith(SHARE_ENDINGS):
        return True
    if not isinstance(spec, DerivedIndicatorSpec):
        return False
    try:
        node = expr.parse(spec.expr)
    except ExprError:
        return False
    return (isinstance(node, Arith) and node.op == "/") or (
        isinstance(node, Call) and node.func == "div")


def value_indicator(fields: dict[str, ConditionField], columns: list[str],
                    scheme_value: str | None) -> str | None:
    """The indicator a value share sums: the scheme's ``value``, else the first money indicator.

    Only indicators in ``columns`` (what the features file holds) qualify; None when none does.
    """
    if scheme_value and scheme_value in columns:
        return scheme_value
    return next((n for n, f in fields.items() if f.money and n in columns), None)
