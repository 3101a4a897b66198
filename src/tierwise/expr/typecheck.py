"""Type checker: every problem in an expression, reported at once.

There are four types: ``number`` (integers, decimals and floats alike), ``string``, ``date``
(dates and timestamps) and ``bool``. The ``null`` literal is accepted only where it has a use,
as a fallback in ``coalesce``, a branch of ``if`` or the default of ``div``. Anywhere else it
would make the result silently always null, which is never what the author meant.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from tierwise.errors import ExprError, Problem
from tierwise.expr.ast import (
    FUNCTIONS,
    Arith,
    Between,
    Boolean,
    Call,
    Compare,
    DateLiteral,
    InList,
    IsNull,
    Logical,
    Name,
    Neg,
    Node,
    Not,
    Null,
    Number,
    String,
)
from tierwise.expr.lexer import quote
from tierwise.expr.limits import ROUND_DIGITS, check_tree
from tierwise.expr.render import render
from tierwise.i18n import _, ngettext

NUMBER, STRING, DATE, BOOL = "number", "string", "date", "bool"
TYPES = (NUMBER, STRING, DATE, BOOL)
_NULL = "null"  # the type of the null literal, never a result type
_UNKNOWN = "?"  # an operand that already failed; suppresses follow-on complaints
_ALIASES = {
    **dict.fromkeys(("number", "int", "integer", "float", "double", "decimal", "numeric"), NUMBER),
    **dict.fromkeys(("string", "str", "text"), STRING),
    **dict.fromkeys(("date", "timestamp", "datetime"), DATE),
    **dict.fromkeys(("bool", "boolean"), BOOL),
}
_ORDERED = (NUMBER, STRING, DATE)
_NUMERIC_FUNCTIONS = ("abs", "floor", "ceil", "ln", "log10", "sqrt")


def check(node: Node, types: Mapping[str, str]) -> str:
    """Type-check an expression.

    Args:
        node: The root of the tree, from :func:`tierwise.expr.parse`.
        types: The type of every name the expression may use: ``number``, ``string``, ``date`` or
            ``bool`` (``int``, ``float``, ``decimal``, ``text``, ``timestamp``, ``boolean`` and
            similar spellings are accepted too).

    Returns:
        The result type: ``number``, ``string``, ``date`` or ``bool``.

    Raises:
        ExprError: Listing every problem found: unknown names (with a "did you mean"), wrong
            argument counts or types, comparing a number with text, ``and`` on numbers, and so on.
            A tree nested deeper or larger than :mod:`tierwise.expr.limits` allows is refused
            first, whether it was parsed or built by hand.
    """
    check_tree(node)
    checker = _Checker(types)
    result = checker.visit(node)
    if result == _NULL:
        checker.report(_("the expression is always null; write a value or a column"))
    if checker.problems:
        raise ExprError(checker.problems)
    return result


def check_condition(node: Node, types: Mapping[str, str]) -> None:
    """Type-check an expression that must be a condition (true or false).

    Conditions are tier rules, filters such as a customer search's ``where`` and the ``where`` of
    an indicator. A number or a text there is a mistake (``where=1``), not a filter.

    Args:
        node: The root of the tree, from :func:`tierwise.expr.parse`.
        types: The type of every name the expression may use, as for :func:`check`.

    Raises:
        ExprError: Listing every problem :func:`check` finds, or saying that the expression is a
            number, text or date where a condition is needed, with its column and an example of
            a comparison that would be one.
    """
    kind = check(node, types)
    if kind == BOOL:
        return
    raise ExprError(
        _("a condition must be true or false, but {snippet} {at} is {kind}; {hint}").format(
            snippet=_snippet(node), at=_at(node), kind=type_name(kind),
            hint=_comparison_hint(node, kind))
    )


def _comparison_hint(node: Node, kind: str) -> str:
    if isinstance(node, Name):
        name = render(node)
        example = {
            NUMBER: f"'{name} > 0'",
            STRING: f"\"{name} == 'web'\"",
            DATE: f"\"{name} >= date('2026-01-01')\"",
        }[kind]
        return _("compare it, e.g. {example}").format(example=example)
    return _("write a comparison such as 'orders_12m >= 10', and join several with 'and' or 'or'")


def type_name(kind: str) -> str:
    """An expression type as a person reads it: a number, a string, a date, a condition."""
    names = {_NULL: "null", BOOL: _("a condition"), NUMBER: _("a number"), STRING: _("a string"),
             DATE: _("a date")}
    return names.get(kind) or _("a {kind}").format(kind=kind)


def _arity(node: Call, fewest: int, most: int | None) -> str:
    """Why a call has the wrong number of arguments."""
    values = {"func": node.func, "at": _at(node), "fewest": fewest, "most": most,
              "count": len(node.args)}
    if most is None:
        return ngettext("{func}() {at} takes at least {fewest} argument, got {count}",
                        "{func}() {at} takes at least {fewest} arguments, got {count}",
                        fewest).format(**values)
    if fewest == most:
        return ngettext("{func}() {at} takes {fewest} argument, got {count}",
                        "{func}() {at} takes {fewest} arguments, got {count}",
                        fewest).format(**values)
    return _("{func}() {at} takes {fewest} to {most} arguments, got {count}").format(**values)


def _snippet(node: Node) -> str:
    text = render(node)
    return quote(text if len(text) <= 40 else f"{text[:37]}...")


def _at(node: Node) -> str:
    return _("at column {column}").format(column=node.pos + 1)


class _Checker:
    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = types
        self.problems: list[Problem] = []

    def report(self, message: str) -> None:
        self.problems.append(Problem(message))

    def complain(self, node: Node, kind: str, kinds: tuple[str, ...], role: str) -> None:
        """Report that ``node`` has type ``kind`` where ``role`` needs one of ``kinds``."""
        if kind == _NULL:
            self.report(
                _("null {at} makes {role} always null; use 'x is null' to test for a missing "
                  "value, or coalesce(x, 0) to replace one").format(at=_at(node), role=role)
            )
            return
        names = [type_name(k) for k in kinds]
        wanted = names[0] if len(names) == 1 else _("{some} or {last}").format(
            some=_(", ").join(names[:-1]), last=names[-1])
        hint = ""
        if kind == NUMBER and BOOL in kinds:
            hint = _("; compare it, e.g. '{example} > 0'").format(example=render(node))
        elif kind == DATE and NUMBER in kinds:
            hint = _("; use days_since(d) or days_between(a, b) to turn dates into numbers")
        elif kind == STRING and NUMBER in kinds and isinstance(node, String):
            hint = _("; write numbers without quotes")
        self.report(_("{role} needs {wanted}, but {snippet} {at} is {kind}{hint}").format(
            role=role, wanted=wanted, snippet=_snippet(node), at=_at(node), kind=type_name(kind),
            hint=hint))

    def want(self, node: Node, kinds: tuple[str, ...], role: str) -> str:
        """Visit ``node`` and complain unless its type is one of ``kinds``."""
        kind = self.visit(node)
        if kind == _UNKNOWN or kind in kinds:
            return kind
        self.complain(node, kind, kinds, role)
        return _UNKNOWN

    def same(
        self, nodes: tuple[Node, ...], kinds: tuple[str, ...], role: str, *, nulls: bool = False
    ) -> str:
        """Visit ``nodes``, which must share one type out of ``kinds``, and return that type.

        With ``nulls``, null literals are allowed and the result is ``null`` when all are null.
        """
        found: tuple[str, Node] | None = None
        failed = False
        for node in nodes:
            kind = self.visit(node)
            if kind == _NULL and nulls:
                continue
            if kind == _UNKNOWN or kind not in kinds:
                # One complaint per operator: 'flag > false' is one mistake, not two.
                if kind != _UNKNOWN and not failed:
                    self.complain(node, kind, kinds, role)
                failed = True
            elif found is None:
                found = (kind, node)
            elif kind != found[0] and not failed:
                self.mixed(role, found[1], found[0], node, kind)
                failed = True
        if failed:
            return _UNKNOWN
        return found[0] if found else _NULL

    def mixed(self, role: str, first: Node, first_kind: str, node: Node, kind: str) -> None:
        # Comparing a number with quoted digits ('42' vs 42) is the classic mistake: say so.
        quoted = {first_kind, kind} == {NUMBER, STRING} and (
            isinstance(first, String) or isinstance(node, String)
        )
        hint = _("write numbers without quotes") if quoted else _("use values of one type")
        self.report(_("{role} cannot mix {first} ({first_snippet}) with {kind} ({snippet} {at}); "
                      "{hint}").format(role=role, first=type_name(first_kind),
                                       first_snippet=_snippet(first), kind=type_name(kind),
                                       snippet=_snippet(node), at=_at(node), hint=hint))

    def visit(self, node: Node) -> str:
        if isinstance(node, Number):
            return NUMBER
        if isinstance(node, String):
            if "\x00" in node.value:  # only in trees built by hand: the lexer refuses NUL
                self.report(_("text {at} contains a NUL character (U+0000); remove it").format(
                    at=_at(node)))
            return STRING
        if isinstance(node, Boolean):
            return BOOL
        if isinstance(node, DateLiteral):
            return DATE
        if isinstance(node, Null):
            return _NULL
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Neg):
            self.want(node.operand, (NUMBER,), "'-'")
            return NUMBER
        if isinstance(node, Not):
            self.want(node.operand, (BOOL,), "'not'")
            return BOOL
        if isinstance(node, Arith):
            self.want(node.left, (NUMBER,), f"'{node.op}'")
            self.want(node.right, (NUMBER,), f"'{node.op}'")
            return NUMBER
        if isinstance(node, Logical):
            self.want(node.left, (BOOL,), f"'{node.op}'")
            self.want(node.right, (BOOL,), f"'{node.op}'")
            return BOOL
        if isinstance(node, Compare):
            kinds = TYPES if node.op in ("==", "!=") else _ORDERED
            self.same((node.left, node.right), kinds, f"'{node.op}'")
            return BOOL
        if isinstance(node, Between):
            self.same((node.operand, node.low, node.high), _ORDERED, "'between'")
            return BOOL
        if isinstance(node, InList):
            self.same((node.operand, *node.items), TYPES, "'in'")
            return BOOL
        if isinstance(node, IsNull):
            if isinstance(node.operand, Null):
                self.report(_("'null is null' {at} never changes; test a column instead").format(
                    at=_at(node)))
            else:
                self.visit(node.operand)
            return BOOL
        return self.call(node)

    def digits(self, node: Node) -> None:
        """The digits of ``round(x, digits)``: a whole number literal in ``ROUND_DIGITS``."""
        fewest, most = ROUND_DIGITS
        if not (isinstance(node, Number) and isinstance(node.value, int)):
            self.report(
                _("round() needs a whole number of digits such as 2, but got {snippet} "
                  "{at}").format(snippet=_snippet(node), at=_at(node))
            )
        elif not fewest <= node.value <= most:
            self.report(
                _("round() rounds to {fewest} to {most} digits, but got {value} {at}; a "
                  "double holds about {most} significant digits, so use at most {most}").format(
                      fewest=fewest, most=most, value=node.value, at=_at(node))
            )

    def name(self, node: Name) -> str:
        declared = self.types.get(node.name)
        if declared is None:
            close = difflib.get_close_matches(node.name, list(self.types), n=1)
            if close:
                hint = _("did you mean '{name}'?").format(name=close[0])
            elif len(self.types) > 10:
                known = sorted(self.types)
                hint = _("known names: {names} and {n} more").format(
                    names=_(", ").join(known[:10]), n=len(known) - 10)
            elif self.types:
                hint = _("known names: {names}").format(names=_(", ").join(sorted(self.types)))
            else:
                hint = _("no names are defined here")
            self.report(_("unknown name '{name}' {at}; {hint}").format(
                name=node.name, at=_at(node), hint=hint))
            return _UNKNOWN
        kind = _ALIASES.get(declared.lower())
        if kind is None:
            self.report(
                _("'{name}' {at} has type '{declared}', which expressions cannot use; "
                  "expressions work on number, string, date and bool values").format(
                      name=node.name, at=_at(node), declared=declared)
            )
            return _UNKNOWN
        return kind

    def call(self, node: Call) -> str:
        if node.func not in FUNCTIONS:  # only reachable for trees built by hand, not parsed
            self.report(_("unknown function '{func}' {at}").format(func=node.func, at=_at(node)))
            return _UNKNOWN
        fewest, most = FUNCTIONS[node.func]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            self.report(_arity(node, fewest, most))
            for arg in node.args:
                self.visit(arg)
            return _UNKNOWN
        role = f"{node.func}()"
        args = node.args
        if node.func in _NUMERIC_FUNCTIONS:
            self.want(args[0], (NUMBER,), role)
            return NUMBER
        if node.func == "round":
            self.want(args[0], (NUMBER,), role)
            if count == 2:
                self.digits(args[1])
            return NUMBER
        if node.func in ("coalesce", "least", "greatest"):
            kinds = TYPES if node.func == "coalesce" else _ORDERED
            kind = self.same(args, kinds, role, nulls=node.func == "coalesce")
            if kind == _NULL:
                self.report(_("{role} {at} needs at least one value that is not null").format(
                    role=role, at=_at(node)))
                return _UNKNOWN
            return kind
        if node.func == "if":
            self.want(args[0], (BOOL,), _("the first argument of if()"))
            kind = self.same(args[1:], TYPES, "if()", nulls=True)
            if kind == _NULL:
                self.report(_("if() {at} returns null in both branches; give one a "
                              "value").format(at=_at(node)))
                return _UNKNOWN
            return kind
        if node.func == "div":
            self.want(args[0], (NUMBER,), role)
            self.want(args[1], (NUMBER,), role)
            if count == 3 and not isinstance(args[2], Null):
                self.want(args[2], (NUMBER,), _("the default of div()"))
            return NUMBER
        if node.func in ("days_since", "year", "month"):
            self.want(args[0], (DATE,), role)
            return NUMBER
        if node.func == "days_between":
            self.want(args[0], (DATE,), role)
            self.want(args[1], (DATE,), role)
            return NUMBER
        if node.func in ("lower", "upper"):
            self.want(args[0], (STRING,), role)
            return STRING
        if node.func == "length":
            self.want(args[0], (STRING,), role)
            return NUMBER
        # is_null
        if isinstance(args[0], Null):
            self.report(_("is_null(null) {at} is always true; test a column instead").format(
                at=_at(args[0])))
        else:
            self.visit(args[0])
        return BOOL
