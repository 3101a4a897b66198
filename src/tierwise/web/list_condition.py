"""The customer list's condition filter, built with the rules editor's builder.

The filter form carries the builder of one condition under the rules editor's field names for
tier 0 (``tiers[0].mode``, ``tiers[0].c.0.ind``, ``tiers[0].when``: :mod:`tierwise.web.rules_form`)
and the condition in force as ``where``. Pressing Search turns the rows (or the text) into the
canonical condition text and the list redirects to a plain ``where=`` address that can be
bookmarked and shared; the builder's buttons (add a row, a group, edit as text) redraw the form
without changing the filter; rows that cannot be read keep what the user typed and say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tierwise.services.condition_fields import ConditionField
from tierwise.web import rules_form
from tierwise.web.rules_form import Box, Row, TierCondition

#: The builder's field names start so (the list has one condition: tier 0's).
PREFIX = "tiers[0]."


@dataclass(frozen=True)
class ListCondition:
    """The condition filter as the page shows it, and what pressing Search asked for.

    Attributes:
        shown: The builder (rows or text) to draw.
        problems: Messages by field path (``tiers[0].c.1.v``) for rows that cannot be read.
        where: The condition text to filter by from now on (empty: no condition), or None when
            the request did not ask to change it.
    """

    shown: TierCondition
    problems: dict[str, list[str]] = field(default_factory=dict)
    where: str | None = None


def blank() -> TierCondition:
    """An empty builder: one row to fill in."""
    return TierCondition("rows", Box(items=[Row()]), "")


def read(given: Mapping[str, str], fields: dict[str, ConditionField]) -> ListCondition:
    """The condition filter of a list request.

    Without builder fields the builder shows the ``where`` in force (as rows when it can).
    """
    form = {k: v for k, v in given.items() if k.startswith(PREFIX)}
    current = (given.get("where") or "").strip()
    mode = form.get(PREFIX + "mode")
    if mode not in ("rows", "text"):
        return ListCondition(rules_form.from_text(current) if current else blank())
    action = given.get("action", "")
    if action:
        changed = rules_form.reshape(form, action, fields)
        return ListCondition(_shown(changed))
    if mode == "text":
        return ListCondition(_shown(form), where=form.get(PREFIX + "when", "").strip())
    text, found = rules_form.when_of(form, 0, fields, lenient=True, alone=True)
    if text is None:
        problems: dict[str, list[str]] = {}
        for path, message in found:
            problems.setdefault(path, []).append(message)
        return ListCondition(_shown(form), problems)
    return ListCondition(_shown(form), where=text)


def _shown(form: dict[str, str]) -> TierCondition:
    shown = rules_form.view(form, 1, posted=True)[0]
    if shown.mode == "rows" and not shown.box.items:
        return TierCondition("rows", Box(join=shown.box.join, items=[Row()]), shown.text)
    return shown
