"""The rules editor's condition builder as form fields, and back.

Each rules tier ``i`` shows its condition either as builder rows or as text
(``tiers[i].mode``: ``rows`` or ``text``). Rows are named by their path in the tree:
``tiers[0].c.join`` joins the top group, ``tiers[0].c.1.join`` the group that is its second
item, and ``tiers[0].c.1.0.ind`` / ``.op`` / ``.v`` / ``.v2`` are that group's first row
(indicator, operator, value, second value of ``between``). The page posts the rows; this module
reads them into :mod:`tierwise.expr.builder` trees (values through :mod:`tierwise.expr.values`)
and writes the canonical text into ``tiers[i].when``, which the editor saves as before.
Buttons that change the rows without JavaScript are actions (``add_row:0:1`` adds a row to
tier 0's group ``1``); :func:`reshape` applies them and the page shows the form again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tierwise.errors import ExprError
from tierwise.expr import builder
from tierwise.expr.builder import ARITY, Condition, Group
from tierwise.expr.values import read_value, read_values
from tierwise.i18n import N_, _
from tierwise.services.condition_fields import ConditionField, condition_fields
from tierwise.services.grading import Project
from tierwise.services.rule_counts import DraftCounts

#: Builder buttons: add a row or a group to a group, remove a row or group, switch the mode.
ACTION = re.compile(r"^(?:(add_row|add_group|remove):(\d{1,3}):((?:\d{1,2}(?:\.\d{1,2}){0,3})?)"
                    r"|(text|rows):(\d{1,3}))$")
MAX_GROUP_DEPTH = 2  # groups nest two levels below the top group
MAX_ITEMS = 30
_ROW = re.compile(r"^tiers\[(\d{1,3})\]\.c\.((?:\d{1,2}\.){0,4})(ind|op|v|v2|join)$")
_NO_ROWS = N_("The builder has no rows for this condition (it uses arithmetic, functions, "
              "'not' or compares two indicators): edit it as text.")


@dataclass
class Row:
    """A builder row as typed: indicator, operator and the value texts."""

    ind: str = ""
    op: str = ">="
    v: str = ""
    v2: str = ""


@dataclass
class Box:
    """A group as typed: its join and its items (rows and groups)."""

    join: str = "and"
    items: list[Row | Box] = field(default_factory=list)


@dataclass(frozen=True)
class TierCondition:
    """How a tier's condition shows: as rows (``box``) or as ``text``, with a note why."""

    mode: str
    box: Box
    text: str
    note: str | None = None


def read_box(form: dict[str, str], tier: int) -> Box:
    """The rows of tier ``tier`` as the form posted them (absent: an empty group)."""
    root = Box(join=_join(form.get(f"tiers[{tier}].c.join", "and")))
    found: dict[tuple[int, ...], dict[str, str]] = {}
    for key, text in form.items():
        m = _ROW.match(key)
        if m and int(m.group(1)) == tier and m.group(2):
            path = tuple(int(p) for p in m.group(2).rstrip(".").split("."))
            found.setdefault(path, {})[m.group(3)] = text
    boxes: dict[tuple[int, ...], Box] = {(): root}  # posted paths need not be numbered without holes
    for path in sorted(found):
        parent = boxes.get(path[:-1])
        if parent is None or len(parent.items) >= MAX_ITEMS:
            continue
        got = found[path]
        if "join" in got:
            boxes[path] = Box(join=_join(got["join"]))
            parent.items.append(boxes[path])
        else:
            parent.items.append(Row(got.get("ind", ""), got.get("op", ">="), got.get("v", ""),
                                    got.get("v2", "")))
    return root


def write_box(box: Box, tier: int) -> dict[str, str]:
    """The form fields of ``box`` for tier ``tier``, paths renumbered."""
    out = {f"tiers[{tier}].c.join": box.join}

    def walk(group: Box, prefix: str) -> None:
        for n, item in enumerate(group.items):
            at = f"tiers[{tier}].c.{prefix}{n}"
            if isinstance(item, Box):
                out[f"{at}.join"] = item.join
                walk(item, f"{prefix}{n}.")
            else:
                out.update({f"{at}.ind": item.ind, f"{at}.op": item.op, f"{at}.v": item.v,
                            f"{at}.v2": item.v2})

    walk(box, "")
    return out


def box_of(tree: Group) -> Box:
    """Builder rows showing ``tree``, values written as the expression language does."""
    box = Box(join=tree.join)
    for item in tree.items:
        if isinstance(item, Group):
            box.items.append(box_of(item))
        else:
            texts = [shown(v) for v in item.values]
            if item.op in ("in", "not in"):
                box.items.append(Row(item.indicator, item.op, "; ".join(texts)))
            else:
                box.items.append(Row(item.indicator, item.op, *texts[:2]))
    return box


def shown(value: builder.Value) -> str:
    """A value as a row's input shows it: 5000, 0.3, 2026-06-30, true, text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def tree_of(box: Box, fields: dict[str, ConditionField], *, tier: int, label: str | None,
            lenient: bool = False) -> tuple[Group, list[tuple[str, str]]]:
    """The builder tree of typed rows, and each row's problem as (field path, message).

    ``lenient`` (a live count while the user types) skips rows with no indicator chosen.
    Problems name the row as "tier ``label``, condition 2", or "condition 2" when ``label``
    is None (a condition outside the editor, as the customer list's filter).
    """
    problems: list[tuple[str, str]] = []

    def walk(group: Box, prefix: str) -> Group:
        items: list[Condition | Group] = []
        for n, item in enumerate(group.items):
            path = f"{prefix}{n}"
            if isinstance(item, Box):
                items.append(walk(item, f"{path}."))
                continue
            if lenient and not item.ind:
                continue
            at = f"tiers[{tier}].c.{path}"
            where = (_("condition {n}").format(n=_number(path)) if label is None
                     else _("tier {tier}, condition {n}").format(tier=label, n=_number(path)))
            try:
                items.append(condition(item, fields, where=where))
            except ExprError as exc:
                problems.append((at, "; ".join(p.message for p in exc.problems)))
        return Group(group.join, tuple(items))

    return builder.normalize(walk(box, "")), problems


def condition(row: Row, fields: dict[str, ConditionField], *, where: str) -> Condition:
    """One typed row as a condition, its values read by the indicator's type.

    Raises:
        ExprError: No indicator or operator chosen, or a value that cannot be read.
    """
    found = fields.get(row.ind)
    if found is None:
        raise ExprError(_("{where}: choose an indicator").format(where=where))
    if row.op not in ARITY:
        raise ExprError(_("{where}: choose an operator").format(where=where))
    arity = ARITY[row.op]
    kind, share = found.kind, found.share
    if arity is None:
        return Condition(row.ind, row.op, tuple(read_values(row.v, kind=kind, share=share,
                                                            where=where)))
    texts = (row.v, row.v2)[:arity]
    return Condition(row.ind, row.op, tuple(read_value(t, kind=kind, share=share, where=where)
                                            for t in texts))


def view(values: dict[str, str], count: int, posted: bool) -> dict[int, TierCondition]:
    """How each tier's condition shows, by tier index.

    A posted form keeps its mode and rows; a stored condition shows as rows when the builder
    can show it, else as text with a note (and as text with the parser's message when it does
    not parse).
    """
    out: dict[int, TierCondition] = {}
    for i in range(count):
        text = values.get(f"tiers[{i}].when", "")
        mode = values.get(f"tiers[{i}].mode", "")
        if posted and mode == "rows":
            out[i] = TierCondition(mode, read_box(values, i), text)
            continue
        if posted and mode == "text":
            out[i] = TierCondition(mode, Box(), text, _(_NO_ROWS) if _rowless(text) else None)
            continue
        out[i] = from_text(text)
    return out


def _rowless(text: str) -> bool:
    """Whether ``text`` is a valid condition the builder has no rows for."""
    try:
        return builder.to_tree(text) is None
    except ExprError:
        return False


def from_text(text: str) -> TierCondition:
    """A condition's text as rows when the builder can show it, else as text with a note."""
    try:
        tree = builder.to_tree(text)
    except ExprError as exc:
        return TierCondition("text", Box(), text, "; ".join(p.message for p in exc.problems))
    if tree is None:
        return TierCondition("text", Box(), text, _(_NO_ROWS))
    return TierCondition("rows", box_of(tree), text)


def with_conditions(form: dict[str, str], fields: dict[str, ConditionField], *,
                    lenient: bool = False) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """``form`` with ``tiers[i].when`` written from the rows of every tier in rows mode.

    Returns the form and the rows' problems (field path, message); a tier with a problem
    keeps the text it had.
    """
    out = dict(form)
    problems: list[tuple[str, str]] = []
    for i in range(count_of(form)):
        if form.get(f"tiers[{i}].mode") != "rows":
            continue
        text, found = when_of(form, i, fields, lenient=lenient)
        problems += found
        if text is not None:
            out[f"tiers[{i}].when"] = text
    return out, problems


def when_of(form: dict[str, str], tier: int, fields: dict[str, ConditionField], *,
            lenient: bool = False, alone: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
    """Tier ``tier``'s rows as canonical text, and their problems as (field path, message).

    The text is None when a row has a problem. ``alone``: the condition belongs to no tier
    (problems say "condition 2", not "tier 1, condition 2").
    """
    label = None if alone else form.get(f"tiers[{tier}].key") or str(tier + 1)
    tree, found = tree_of(read_box(form, tier), fields, tier=tier, label=label, lenient=lenient)
    if found:
        return None, found
    try:
        return builder.to_text(tree), []
    except ExprError as exc:
        return None, [(f"tiers[{tier}].c", "; ".join(p.message for p in exc.problems))]


def reshape(form: dict[str, str], action: str, fields: dict[str, ConditionField]
            ) -> dict[str, str]:
    """``form`` changed by a builder button (:data:`ACTION`); nothing is checked or saved."""
    m = ACTION.match(action)
    if m is None:
        return form
    if m.group(4):  # switch tier i between rows and text
        return _switch(form, int(m.group(5)), m.group(4), fields)
    op, tier, path = m.group(1), int(m.group(2)), m.group(3)
    box = read_box(form, tier)
    steps = [int(p) for p in path.split(".")] if path else []
    if op == "remove":
        parent = _at(box, tuple(steps[:-1])) if steps else None
        if parent is not None and steps[-1] < len(parent.items):
            parent.items.pop(steps[-1])
    else:
        group = _at(box, tuple(steps))
        if group is not None and len(group.items) < MAX_ITEMS:
            if op == "add_row":
                group.items.append(Row())
            elif len(steps) < MAX_GROUP_DEPTH:
                group.items.append(Box("or" if group.join == "and" else "and", [Row()]))
    out = {k: v for k, v in form.items() if not k.startswith(f"tiers[{tier}].c.")}
    return out | write_box(box, tier)


def _switch(form: dict[str, str], tier: int, mode: str, fields: dict[str, ConditionField]
            ) -> dict[str, str]:
    out = {k: v for k, v in form.items() if not k.startswith(f"tiers[{tier}].c.")}
    if mode == "text":
        text, _problems = when_of(form, tier, fields)
        if text is not None:  # else the text it had: the rows' problems show on saving
            out[f"tiers[{tier}].when"] = text
        out[f"tiers[{tier}].mode"] = "text"
        return out
    shown_as = from_text(form.get(f"tiers[{tier}].when", ""))
    out[f"tiers[{tier}].mode"] = shown_as.mode
    if shown_as.mode == "rows":
        out |= write_box(shown_as.box, tier)
    return out


def _at(box: Box, path: tuple[int, ...]) -> Box | None:
    for step in path:
        if step >= len(box.items):
            return None
        item = box.items[step]
        if not isinstance(item, Box):
            return None
        box = item
    return box


def _join(text: str) -> str:
    return text if text in builder.JOINS else "and"


def _number(path: str) -> str:
    return ".".join(str(int(p) + 1) for p in path.split("."))


def count_of(form: dict[str, str]) -> int:
    """The number of tiers the form carries (``tiers.count``), at most 50."""
    try:
        return min(int(form.get("tiers.count", "0")), 50)
    except ValueError:
        return 0


#: Operators as a select shows them, in the builder's order.
OPERATOR_LABELS = {
    ">=": N_("≥ at least"), ">": N_("> more than"), "<=": N_("≤ at most"), "<": N_("< less than"),
    "==": N_("= equals"), "!=": N_("≠ is not"), "between": N_("between (both included)"),
    "not between": N_("not between"), "in": N_("is one of"), "not in": N_("is none of"),
    "is null": N_("is empty"), "is not null": N_("is not empty"),
}


def page_context(project: Project, method: str, values: dict[str, str], count: int, *,
                 posted: bool, counts: DraftCounts | None) -> dict[str, Any]:
    """What the editor page needs to show a rules scheme's builder (nothing for other methods)."""
    if method != "rules":
        return {"builders": {}, "fields": {}, "operators": [], "counts": None}
    return {
        "builders": view(values, count, posted),
        "fields": condition_fields(project),
        "operators": [(op, _(OPERATOR_LABELS[op])) for op in builder.OPERATORS],
        "blank_row": Row(), "blank_group": Box("or", [Row()]), "counts": counts,
    }
