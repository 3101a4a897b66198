"""What every spec model shares: the frozen, strict base model, labels, names and windows."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierwise.i18n import _
from tierwise.spec.limits import window_length_problem

IDENT = r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$"
WINDOW_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)\s*$")


def window_problem(value: str, *, horizon: bool = False) -> str | None:
    """Why ``value`` is not a window length (``90d``, ``12m``, ...), or None when it is one.

    ``horizon``: the length is a forecast horizon (worded so, with weeks as 39w).
    """
    match = WINDOW_RE.match(value)
    if match is None and horizon:
        return _("horizon {value} is not a length like 90d, 39w, 12m or 1y").format(
            value=repr(value))
    if match is None:
        return _("window {value} is not a length like 90d, 12w, 12m or 1y").format(
            value=repr(value))
    return window_length_problem(int(match.group(1)), match.group(2), value)


class Spec(BaseModel):
    """Base of every spec model: unknown keys are errors, and specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Label(Spec):
    """A text in English and, when given, Simplified and Traditional Chinese.

    ``zh`` is Simplified Chinese (``zh-Hans`` is accepted too); ``zh-Hant`` Traditional. A
    missing translation falls back to the other Chinese script, then to English.
    """

    en: str
    zh: str | None = Field(default=None, alias="zh", description="Simplified Chinese")
    zh_hant: str | None = Field(default=None, alias="zh-Hant", description="Traditional Chinese")

    @model_validator(mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = dict(value)
        for tag, field in (("zh-Hans", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"),
                           ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh_Hant", "zh-Hant")):
            if tag in out and field not in out:
                out[field] = out.pop(tag)
        if "en" not in out:
            # A Chinese-only label still needs a text for English readers: the first given.
            first = next((v for v in (out.get("zh"), out.get("zh-Hant")) if v), None)
            if first is not None:
                out["en"] = first
        return out

    def text(self, lang: str = "en") -> str:
        """The label in ``lang`` (en, zh-Hans or zh-Hant; ``zh`` means zh-Hans)."""
        if lang in ("zh", "zh-Hans"):
            return self.zh or self.zh_hant or self.en
        if lang == "zh-Hant":
            return self.zh_hant or self.zh or self.en
        return self.en


def as_label(value: Any) -> Any:
    """A label given as plain text as ``{"en": text}`` (a ``mode="before"`` field validator)."""
    return {"en": value} if isinstance(value, str) else value
