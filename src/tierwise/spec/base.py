"""What every spec model shares: the frozen, strict base model, labels, names and windows."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from tierwise.spec.limits import window_length_problem

IDENT = r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$"
WINDOW_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)\s*$")


def window_problem(value: str, *, like: str = "90d, 12w, 12m or 1y") -> str | None:
    """Why ``value`` is not a window length (``90d``, ``12m``, ...), or None when it is one."""
    match = WINDOW_RE.match(value)
    if match is None:
        return f"window {value!r} is not a length like {like}"
    return window_length_problem(int(match.group(1)), match.group(2), value)


class Spec(BaseModel):
    """Base of every spec model: unknown keys are errors, and specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Label(Spec):
    """A tier or scheme label in English and Simplified Chinese."""

    en: str
    zh: str | None = None

    def text(self, lang: str = "en") -> str:
        """The label in ``lang`` ("en" or "zh"), falling back to English."""
        return (self.zh or self.en) if lang == "zh" else self.en



def as_label(value: Any) -> Any:
    """A label given as plain text as ``{"en": text}`` (a ``mode="before"`` field validator)."""
    return {"en": value} if isinstance(value, str) else value
