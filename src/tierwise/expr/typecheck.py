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
        checker.report("the expression is always null; write a value or a column")
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
        f"a condition must be true or false, but {_snippet(node)} {_at(node)} is "
        f"{_article(kind)}; {_comparison_hint(node, kind)}"
    )


def _comparison_hint(node: Node, kind: str) -> str:
    if isinstance(node, Name):
        name = render(node)
        example = {
            NUMBER: f"'{name} > 0'",
            STRING: f"\"{name} == 'web'\"",
            DATE: f"\"{name} >= date('2026-01-01')\"",
        }[kind]
        return f"compare it, e.g. {example}"
    return "write a comparison such as 'orders_12m >= 10', and join several with 'and' or 'or'"


def _article(kind: str) -> str:
    return {_NULL: "null", BOOL: "a condition"}.get(kind, f"a {kind}")


def _snippet(node: Node) -> str:
    text = render(node)
    return quote(text if len(text) <= 40 else f"{text[:37]}...")


def _at(node: Node) -> str:
    return f"at column {node.pos + 1}"


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
                f"null {_at(node)} makes {role} always null; use 'x is null' to test "
                "for a missing value, or coalesce(x, 0) to replace one"
            )
            return
        names = [_article(k) for k in kinds]
        wanted = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        hint = ""
        if kind == NUMBER and BOOL in kinds:
            hint = f"; compare it, e.g. '{render(node)} > 0'"
        elif kind == DATE and NUMBER in kinds:
            hint = "; use days_since(d) or days_between(a, b) to turn dates into numbers"
        elif kind == STRING and NUMBER in kinds and isinstance(node, String):
            hint = "; write numbers without quotes"
        self.report(
            f"{role} needs {wanted}, but {_snippet(node)} {_at(node)} is {_article(kind)}{hint}"
        )

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
        hint = "write numbers without quotes" if quoted else "use values of one type"
        self.report(
            f"{role} cannot mix {_article(first_kind)} ({_snippet(first)}) with "
            f"{_article(kind)} ({_snippet(node)} {_at(node)}); {hint}"
        )

    def visit(self, node: Node) -> str:
        if isinstance(node, Number):
            return NUMBER
        if isinstance(node, String):
            if "\x00" in node.value:  # only in trees built by hand: the lexer refuses NUL
                self.report(f"text {_at(node)} contains a NUL character (U+0000); remove it")
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
                self.report(f"'null is null' {_at(node)} never changes; test a column instead")
            else:
                self.visit(node.operand)
            return BOOL
        return self.call(node)

    def digits(self, node: Node) -> None:
        """The digits of ``round(x, digits)``: a whole number literal in ``ROUND_DIGITS``."""
        fewest, most = ROUND_DIGITS
        if not (isinstance(node, Number) and isinstance(node.value, int)):
            self.report(
                f"round() needs a whole number of digits such as 2, but got "
                f"{_snippet(node)} {_at(node)}"
            )
        elif not fewest <= node.value <= most:
            self.report(
                f"round() rounds to {fewest} to {most} digits, but got {node.value} "
                f"{_at(node)}; a double holds about {most} significant digits, so use at "
                f"most {most}"
            )

    def name(self, node: Name) -> str:
        declared = self.types.get(node.name)
        if declared is None:
            close = difflib.get_close_matches(node.name, list(self.types), n=1)
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif self.types:
                known = sorted(self.types)
                more = f" and {len(known) - 10} more" if len(known) > 10 else ""
                hint = f"known names: {', '.join(known[:10])}{more}"
            else:
                hint = "no names are defined here"
            self.report(f"unknown name '{node.name}' {_at(node)}; {hint}")
            return _UNKNOWN
        kind = _ALIASES.get(declared.lower())
        if kind is None:
            self.report(
                f"'{node.name}' {_at(node)} has type '{declared}', which expressions "
                "cannot use; expressions work on number, string, date and bool values"
            )
            return _UNKNOWN
        return kind

    def call(self, node: Call) -> str:
        if node.func not in FUNCTIONS:  # only reachable for trees built by hand, not parsed
            self.report(f"unknown function '{node.func}' {_at(node)}")
            return _UNKNOWN
        fewest, most = FUNCTIONS[node.func]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            if most is None:
                takes = f"at least {fewest}"
            else:
                takes = str(fewest) if fewest == most else f"{fewest} to {most}"
            plural = "" if takes == "1" else "s"
            self.report(f"{node.func}() {_at(node)} takes {takes} argument{plural}, got {count}")
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
                self.report(f"{role} {_at(node)} needs at least one value that is not null")
                return _UNKNOWN
            return kind
        if node.func == "if":
            self.want(args[0], (BOOL,), "the first argument of if()")
            kind = self.same(args[1:], TYPES, "if()", nulls=True)
            if kind == _NULL:
                self.report(f"if() {_at(node)} returns null in both branches; give one a value")
                return _UNKNOWN
            return kind
        if node.func == "div":
            self.want(args[0], (NUMBER,), role)
            self.want(args[1], (NUMBER,), role)
            if count == 3 and not isinstance(args[2], Null):
                self.want(args[2], (NUMBER,), "the default of div()")
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
            self.report(f"is_null(null) {_at(args[0])} is always true; test a column instead")
        else:
            self.visit(args[0])
        return BOOL
