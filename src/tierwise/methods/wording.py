"""Texts for people: indicator labels, tier names and conditions in the reader's language.

Sentences are filled in the engine by :func:`tierwise.expr.text.sentence` (re-exported here).
Indicator names read as their labels (``label:`` in YAML) in the reader's language: the service
that renders texts sets them for the block with :func:`indicator_labels`. Conditions quoted in
reasons read in the reader's language too (:func:`condition`); in English without labels they
are the canonical expression text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from tierwise import expr
from tierwise.expr.ast import Between, Compare, InList, IsNull, Logical, Name, Node, Not
from tierwise.expr.render import precedence
from tierwise.expr.text import sentence
from tierwise.i18n import N_, _, current, label_of

_LABELS: ContextVar[Mapping[str, str] | None] = ContextVar("tierwise_indicator_labels",
                                                          default=None)
#: Comparison operators as Chinese readers write them.
#: Each method's name for people (``method:`` in a scheme), to translate with ``_``.
METHOD_NAMES = {"rules": N_("rules"), "scorecard": N_("scorecard"), "rfm": N_("RFM segments"),
                "abc": N_("ABC analysis (share of value)"), "cluster": N_("clusters"),
                "clv": N_("customer lifetime value"), "model": N_("prediction model"),
                "risk": N_("risk rating"), "credit": N_("credit scorecard")}


def method_name(method: str) -> str:
    """The method's name in the reader's language; an unknown method keeps its code."""
    return _(METHOD_NAMES[method]) if method in METHOD_NAMES else method


#: The ``model`` and ``cluster`` methods' algorithms, named for people.
ALGORITHM_NAMES = {"gradient_boosting": N_("gradient boosting"),
                   "logistic": N_("logistic regression"),
                   "kmeans": N_("k-means"), "gmm": N_("Gaussian mixture")}


def algorithm_name(algorithm: str) -> str:
    """A ``model`` or ``cluster`` scheme's algorithm in the reader's language (else its code)."""
    return _(ALGORITHM_NAMES[algorithm]) if algorithm in ALGORITHM_NAMES else algorithm


_SYMBOLS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", ">": ">", "<": "<"}


@contextmanager
def indicator_labels(labels: Mapping[str, str]) -> Iterator[None]:
    """Name indicators by ``labels`` (indicator -> label in the current language) in the block."""
    token = _LABELS.set(dict(labels))
    try:
        yield
    finally:
        _LABELS.reset(token)


def labels_in_use() -> dict[str, str]:
    """The indicator labels texts use now (a cache of rendered texts keys on them)."""
    return dict(_LABELS.get() or {})


def labels_of(indicators: Mapping[str, Any]) -> dict[str, str]:
    """Indicator name -> its label in the current language, from a project's ``indicators``."""
    return {n: label_of(getattr(spec, "label", None), n) for n, spec in indicators.items()}


def name(indicator: str) -> str:
    """The indicator as people read it: its label in the current language, else its name."""
    return (_LABELS.get() or {}).get(indicator) or indicator


def tier_name(key: str, label: str | None = None) -> str:
    """A tier in a sentence: ``'gold'`` in English, its label in 「」 in Chinese."""
    if current() == "en":
        return repr(key)
    return f"「{label or key}」"


def tier_word(key: str, label: str | None = None) -> str:
    """A tier in a short phrase: its key in English, its label in 「」 in Chinese."""
    return key if current() == "en" else f"「{label or key}」"


def condition(node: Node) -> str:
    """A condition as the reader reads it: canonical text in English without labels."""
    if current() == "en" and not labels_in_use():
        return expr.render(node)
    return _words(node, 0)


def _words(node: Node, outer: int) -> str:
    """``node`` in words; parentheses where it binds less tightly than ``outer``."""
    power = precedence(node)
    if isinstance(node, Logical):
        left, right = _words(node.left, power), _words(node.right, power + 1)
        text = (_("{left} and {right}") if node.op == "and" else _("{left} or {right}")).format(
            left=left, right=right)
    elif isinstance(node, Not):
        text = _("not {condition}").format(condition=_words(node.operand, 3))
    elif isinstance(node, Compare):
        text = f"{_words(node.left, 5)} {operator(node.op)} {_words(node.right, 5)}"
    elif isinstance(node, Between):
        message = (_("{value} not between {low} and {high}") if node.negated
                   else _("{value} between {low} and {high}"))
        text = message.format(value=_words(node.operand, 5), low=_words(node.low, 5),
                              high=_words(node.high, 5))
    elif isinstance(node, InList):
        message = _("{value} not in ({items})") if node.negated else _("{value} in ({items})")
        text = message.format(value=_words(node.operand, 5),
                              items=_(", ").join(_words(i, 0) for i in node.items))
    elif isinstance(node, IsNull):
        message = _("{value} has a value") if node.negated else _("{value} has no value")
        text = message.format(value=_words(node.operand, 5))
    elif isinstance(node, Name):
        text = name(node.name)
    else:
        text = expr.render(node)
    return f"({text})" if power < outer else text


def operator(op: str) -> str:
    """A comparison operator as the reader writes it (≥ and ≤ in Chinese)."""
    return op if current() == "en" else _SYMBOLS.get(op, op)


__all__ = ["condition", "indicator_labels", "labels_in_use", "name", "operator", "sentence",
           "tier_name", "tier_word"]
