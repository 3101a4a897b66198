"""Sentences built in the engine: a translated message whose placeholders are expressions.

Reasons and gaps are SQL expressions, rendered for many customers at once. A sentence is one
catalogue message with named placeholders (``_("rule {tier} matched: ...")``): the caller
translates it, and :func:`sentence` fills the placeholders with text or string expressions, so
a translator sees the whole sentence and may reorder its parts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def sentence(message: str, **parts: ir.Value | str) -> ir.StringValue:
    """The (already translated) ``message`` with its ``{placeholders}`` filled by ``parts``.

    A part is text or a string expression; every placeholder of ``message`` needs one.

    Raises:
        KeyError: ``message`` has a placeholder ``parts`` does not fill.

    """
    import ibis

    out: ir.StringValue = ibis.literal("")
    at = 0
    for found in _PLACEHOLDER.finditer(message):
        if found.start() > at:
            out = out.concat(message[at:found.start()])
        part = parts[found.group(1)]
        out = out.concat(ibis.literal(part) if isinstance(part, str) else part.cast("string"))
        at = found.end()
    return out.concat(message[at:]) if at < len(message) else out
