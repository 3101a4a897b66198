"""Pydantic's validation errors as tierwise messages, in the current language.

Pydantic writes its messages in English. Each error carries a machine-readable ``type``
(``missing``, ``literal_error``, ``greater_than`` ...) and its ``ctx`` (the bound, the expected
values); :func:`message_of` words the common types itself, through the message catalogue, so a
person reading Chinese meets no English. Our own validators raise ``ValueError`` with texts that
are already translated when they are raised (``value_error``); custom errors
(``unknown_method``) likewise. Any other type keeps pydantic's English text after a translated
lead-in, and the value seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic_core import ErrorDetails

from tierwise.i18n import N_, _

#: Texts per error type; placeholders: {field}, {value}, and the error's ctx entries.
_TEXTS: dict[str, str] = {
    "missing": N_("missing required field {field}; add it"),
    "extra_forbidden": N_("unknown field {field}; check the spelling (fields are listed in the "
                          "docs)"),
    "literal_error": N_("{value} is not allowed here; use one of {expected}"),
    "enum": N_("{value} is not allowed here; use one of {expected}"),
    "int_parsing": N_("{value} is not a whole number; write an integer such as 3"),
    "int_type": N_("{value} is not a whole number; write an integer such as 3"),
    "int_from_float": N_("{value} is not a whole number; write an integer such as 3"),
    "float_parsing": N_("{value} is not a number; write a number such as 2.5"),
    "float_type": N_("{value} is not a number; write a number such as 2.5"),
    "bool_parsing": N_("{value} is not true or false; write true or false"),
    "bool_type": N_("{value} is not true or false; write true or false"),
    "string_type": N_("{value} is not a text; write a text (quote it if it looks like a number)"),
    "date_parsing": N_("{value} is not a date; write a date as YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("{value} is not a date; write a date as YYYY-MM-DD"),
    "date_type": N_("{value} is not a date; write a date as YYYY-MM-DD"),
    "dict_type": N_("{value} is not a mapping; write `name: value` entries here"),
    "model_type": N_("{value} is not a mapping; write `name: value` entries here"),
    "model_attributes_type": N_("{value} is not a mapping; write `name: value` entries here"),
    "list_type": N_("{value} is not a list; write a list such as [a, b]"),
    "greater_than": N_("{value} is too small; it must be greater than {gt}"),
    "greater_than_equal": N_("{value} is too small; it must be at least {ge}"),
    "less_than": N_("{value} is too large; it must be less than {lt}"),
    "less_than_equal": N_("{value} is too large; it must be at most {le}"),
    "too_short": N_("the list has {actual_length} item(s); it needs at least {min_length}"),
    "too_long": N_("the list has {actual_length} item(s); it takes at most {max_length}"),
    "string_too_short": N_("{value} is too short; it needs at least {min_length} character(s)"),
    "string_too_long": N_("the text is too long; it takes at most {max_length} characters"),
    "string_pattern_mismatch": N_("{value} does not have the expected form {pattern}"),
    "union_tag_invalid": N_("{value} is not a known kind here; use one of {expected_tags}"),
    "union_tag_not_found": N_("the field {discriminator} is missing; it says which kind this is"),
    "url_parsing": N_("{value} is not a URL; write a URL such as "
                      "postgresql+psycopg://user@host/db"),
}
#: Error types whose message is ours and already in the current language.
_OURS = {"value_error", "assertion_error", "unknown_method", "missing_method", "scheme_type"}
_OR = re.compile(r",? or ")


def _show(value: Any) -> str:
    """A value as the user wrote it, shortened: quoted texts, plain numbers."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ctx(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The error's context values as texts; lists of choices joined by commas, not "or"."""
    return {key: _OR.sub(", ", str(value)) for key, value in ctx.items()}


def message_of(item: ErrorDetails, field: str | int | None) -> str:
    """The message for one pydantic error, in the current language.

    ``field`` is the last step of the field path (the unknown or missing field's name).
    """
    kind = item["type"]
    if kind in _OURS:
        return item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = _TEXTS.get(kind)
    value = item.get("input")
    if template is None:
        shown = "" if isinstance(value, dict | list) else _show(value)
        return _("invalid value {value}: {detail}").format(value=shown, detail=item["msg"])
    values = {"field": repr(field), "value": _show(value)}
    values.update(_ctx(item.get("ctx") or {}))
    return _(template).format_map(_Missing(values))


class _Missing(dict[str, str]):
    """Formatting values where a placeholder pydantic did not supply shows as ``?``."""

    def __missing__(self, key: str) -> str:
        return "?"
