"""Bounds on what a spec may hold: how deeply values nest, how many there are, which dates.

A spec reaches tierwise as a YAML file or as a JSON body of the REST API. Both are trees of
mappings and lists, and most code that walks them (pydantic, the YAML composer, ``json``, the
version fingerprint and diff) recurses once per level. A value nested a few hundred levels deep
would end in a ``RecursionError`` deep inside that code, and YAML aliases can make a small file
expand to millions of values. No tierwise setting nests more than about eight levels, so every
entry point checks the shape first, without recursing, and refuses what exceeds these bounds with
a :class:`~tierwise.errors.SpecError` that names the field path and the limit.

As-of dates and window lengths are bounded too, so date arithmetic never leaves the calendar.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tierwise.errors import Problem, SpecError
from tierwise.i18n import _

#: Most lists and mappings inside each other in a spec (the document itself is level 1).
MAX_DEPTH = 64
#: Most values (mappings, lists and scalars) a spec may hold once YAML aliases are expanded.
MAX_VALUES = 1_000_000
_SHOWN_STEPS = 12  # a path longer than this is shortened in messages

#: The first as-of date tierwise grades: a scheme's first version is active from this day on
#: (``tierwise.store.schemes.FOREVER``).
EARLIEST_AS_OF = date(1900, 1, 1)
#: The last as-of date tierwise grades: a later one is a typo, and horizons must fit after it.
LATEST_AS_OF = date(2999, 12, 31)
#: The longest window, offset or horizon, in years (each unit is capped at the same reach).
MAX_WINDOW_YEARS = 200
_WINDOW_UNIT_DAYS = {"d": 1, "w": 7, "m": 31, "y": 366}


def as_of_problem(day: date, *, what: str | None = None) -> str | None:
    """Why ``day`` cannot be an as-of date, or None when it lies within the bounds.

    ``what`` names the date (an option such as ``--from``); the as-of date by default.
    """
    values = {"what": what or _("as-of date"), "day": day, "earliest": EARLIEST_AS_OF,
              "latest": LATEST_AS_OF}
    if day < EARLIEST_AS_OF:
        return _("{what} {day} is before {earliest}, the earliest date tierwise grades (a "
                 "scheme's first version is active from {earliest} on, and windows reach back "
                 "from the as-of date); give a date from {earliest} to {latest}").format(**values)
    if day > LATEST_AS_OF:
        return _("{what} {day} is after {latest}, the latest date tierwise grades (a later "
                 "date is most likely a typo, and horizons must fit after it); give a date from "
                 "{earliest} to {latest}").format(**values)
    return None


def check_as_of(day: date, *, what: str | None = None) -> date:
    """Return ``day`` when it is a usable as-of date.

    Raises:
        SpecError: ``day`` is before :data:`EARLIEST_AS_OF` or after :data:`LATEST_AS_OF`.

    """
    problem = as_of_problem(day, what=what)
    if problem is not None:
        raise SpecError(problem)
    return day


def window_length_problem(count: int, unit: str, text: str) -> str | None:
    """Why a window, offset or horizon of ``count`` ``unit`` (d, w, m, y) is too long, or None.

    ``text`` is the length as written, for the message.
    """
    if count * _WINDOW_UNIT_DAYS[unit[0]] > MAX_WINDOW_YEARS * 366:
        return _("{length} is longer than {years} years, the longest window, offset or "
                 "horizon; give a shorter length (data reach back {years} years at most), or "
                 "leave the window out to take all history").format(length=repr(text),
                                                                     years=MAX_WINDOW_YEARS)
    return None


def short_path(path: Sequence[str | int]) -> str:
    """A field path as ``schemes.value.tiers[0]``, its middle elided when it is very long.

    A path that broke the depth limit has more than 64 steps, mostly ``[0][0]...``; the start
    says where it is and the count says how deep it went.
    """
    steps = list(path)
    if len(steps) <= _SHOWN_STEPS:
        return _dotted(steps)
    return _("{start}...({n} more levels)").format(start=_dotted(steps[:_SHOWN_STEPS - 2]),
                                                  n=len(steps) - _SHOWN_STEPS + 2)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _too_deep(limit: int) -> str:
    return _("lists and mappings are nested more than {limit} levels deep here (the limit); no "
             "tierwise setting nests more than a few levels, so this value is a mistake: flatten "
             "or remove it").format(limit=limit)


def _too_many(limit: int) -> str:
    return _("the spec holds more than {limit} values once YAML aliases (*name) are expanded "
             "(the limit); write the values out instead of nesting aliases").format(
                 limit=f"{limit:,}")


@dataclass(frozen=True)
class ShapeProblem:
    """Where a value breaks a bound: its field path, the message, and the YAML line if known."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def problem(self, where: str, prefix: Sequence[str | int] = ()) -> Problem:
        """As a :class:`Problem` located in ``where`` (a file, ``file:line`` when the line is known)."""
        full = (*prefix, *self.path)
        at = f"{where}:{self.line}" if self.line and where else where
        return Problem(self.message, where=at, path=short_path(full))


def value_shape_problem(value: Any, *, max_depth: int = MAX_DEPTH,
                        max_values: int = MAX_VALUES) -> ShapeProblem | None:
    """The first place where plain ``value`` (dicts, lists, tuples, scalars) breaks a bound.

    Walks with an explicit stack, so any depth is safe to check; a structure that contains itself
    counts as too deep. The root is level 1 when it is a dict or a list.
    """
    seen = 0
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        seen += 1
        if seen > max_values:
            return ShapeProblem(path, _too_many(max_values))
        if isinstance(node, dict):
            children: Iterator[tuple[str | int, Any]] = ((str(k), v) for k, v in node.items())
        elif isinstance(node, list | tuple):
            children = iter(enumerate(node))
        else:
            continue
        if len(path) + 1 > max_depth:
            return ShapeProblem(path, _too_deep(max_depth))
        stack.extend(((*path, key), child) for key, child in children)
    return None


def check_value_shape(value: Any, *, where: str = "", prefix: Sequence[str | int] = ()) -> None:
    """Refuse a plain value (e.g. a parsed JSON body) that nests too deeply or is too large.

    Args:
        value: the value, as parsed from JSON or built in Python.
        where: what the value is, for the message (e.g. ``"value (edited)"``).
        prefix: the field path of ``value`` inside the project (e.g. ``("schemes", "value")``).

    Raises:
        SpecError: naming the field path, the bound and how to fix it.

    """
    found = value_shape_problem(value)
    if found is not None:
        raise SpecError(found.problem(where, prefix))


@dataclass
class _Frame:
    path: tuple[str | int, ...]
    is_map: bool
    start_count: int
    anchor: str | None
    height: int = 0  # levels below this collection (aliases expanded)
    index: int = -1  # the last item's index, in a list
    key: str | int | None = None  # the pending key, in a mapping
    want_key: bool = True


@dataclass
class _Walk:
    """The YAML parse events seen so far: the open collections, anchors, and values counted."""

    stack: list[_Frame] = field(default_factory=list)
    # anchor -> (levels, values) of what it stands for, aliases inside it expanded
    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)
    count: int = 0

    def place(self) -> tuple[str | int, ...]:
        """The path of the node starting now, moving its parent on to the next item."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_map:
            top.index += 1
            return (*top.path, top.index)
        return (*top.path, top.key if not top.want_key and top.key is not None else "?")

    def done(self, levels: int, value: str | int | None) -> None:
        """A node of ``levels`` levels ended: its parent grows, and a key waits for its value."""
        if not self.stack:
            return
        top = self.stack[-1]
        top.height = max(top.height, levels)
        if top.is_map:
            if top.want_key:
                top.key = value if value is not None else "?"
            top.want_key = not top.want_key


def yaml_shape_problem(text: str, *, max_depth: int = MAX_DEPTH,
                       max_values: int = MAX_VALUES) -> ShapeProblem | None:
    """The first place where a YAML text breaks a bound, found from its parse events.

    The YAML composer recurses per level (and its scanner slows down with the square of the
    flow depth), so the text is checked on the event stream first, which stops at the first
    level beyond the limit. Aliases count as the values they stand for, for depth and size.

    Raises:
        ruamel.yaml.error.MarkedYAMLError: the text is not valid YAML (as ``YAML().load``).

    """
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        MappingStartEvent,
        ScalarEvent,
    )

    walk = _Walk()
    for event in YAML(typ="rt").parse(text):
        mark = getattr(event, "start_mark", None)
        line = mark.line + 1 if mark is not None else None
        if isinstance(event, CollectionStartEvent):
            path = walk.place()
            walk.count += 1
            if len(walk.stack) + 1 > max_depth:
                return ShapeProblem(path, _too_deep(max_depth), line)
            walk.stack.append(_Frame(path, isinstance(event, MappingStartEvent), walk.count,
                                     event.anchor))
        elif isinstance(event, CollectionEndEvent):
            frame = walk.stack.pop()
            levels = frame.height + 1
            if frame.anchor:
                walk.anchors[frame.anchor] = (levels, walk.count - frame.start_count + 1)
            walk.done(levels, None)
        elif isinstance(event, ScalarEvent):
            path = walk.place()
            walk.count += 1
            if event.anchor:
                walk.anchors[event.anchor] = (0, 1)
            walk.done(0, event.value)
        elif isinstance(event, AliasEvent):
            path = walk.place()
            levels, values = walk.anchors.get(str(event.anchor), (0, 1))
            walk.count += values
            if len(walk.stack) + levels > max_depth:
                return ShapeProblem(path, _too_deep(max_depth), line)
            walk.done(levels, None)
        else:
            continue
        if walk.count > max_values:
            return ShapeProblem(path, _too_many(max_values), line)
    return None
