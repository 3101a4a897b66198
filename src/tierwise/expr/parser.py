"""Recursive-descent (Pratt) parser from expression text to the syntax tree.

Binding powers, loosest first: ``or`` 1, ``and`` 2, prefix ``not`` 3, comparisons / ``between`` /
``in`` / ``is`` 4, ``+ -`` 5, ``* / %`` 6, unary minus 7. Comparisons do not chain (``a < b < c`` is
an error rather than Python's ``a < b and b < c`` or SQL's ``(a < b) < c``), and ``not`` may not
stand where a comparison operand is expected (``a == not b``), both because either reading
surprises someone.
"""

from __future__ import annotations

import datetime
import difflib
import re
from typing import NoReturn

from tierwise.expr.ast import (
    ARITHMETIC,
    COMPARISONS,
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
from tierwise.expr.lexer import Token, fail, quote, tokenize, where
from tierwise.expr.limits import MAX_DEPTH, check_length, check_tree
from tierwise.i18n import N_, _

_CMP = 4
_INFIX_POWER = {
    "or": 1,
    "and": 2,
    **dict.fromkeys(COMPARISONS, _CMP),
    **dict.fromkeys(("between", "in", "is", "not"), _CMP),
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_NOT_POWER = 3
_NEG_POWER = 6  # the operand of unary minus binds tighter than every infix operator
_START = (
    N_("an expression starts with a name, a number, quoted text, a function call, 'not', '-' or '('")
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")



def parse(text: str) -> Node:
    """Parse expression text into a syntax tree.

    Args:
        text: The expression, e.g. ``"orders_12m >= 10 and spend_12m >= 10000"``.

    Returns:
        The root node. Keywords and function names are case-insensitive; names keep their case.

    Raises:
        ExprError: When the text is not a valid expression. The message names the expression, the
            1-based column, the token seen and how to fix it. Texts longer than
            :data:`~tierwise.expr.limits.MAX_LENGTH`, nested deeper than
            :data:`~tierwise.expr.limits.MAX_DEPTH` or larger than
            :data:`~tierwise.expr.limits.MAX_NODES` are refused before they cost anything.
    """
    check_length(text)
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    def parse(self) -> Node:
        if self.peek().kind == "eof":
            _raise_empty(self.text)
        node = self.expr(0, _(_START))
        token = self.peek()
        if token.kind != "eof":
            self.fail(token, _after_value_hint(token))
        # Left-leaning chains ('a + b + c + ...') are built by a loop, not by recursion, so
        # their depth is checked once here; every later pass over the tree recurses.
        check_tree(node, self.text)
        return node

    def too_deep(self, token: Token) -> NoReturn:
        fail(
            self.text,
            token.pos,
            _("expression nested more than {depth} levels deep").format(depth=MAX_DEPTH),
            _("split it into derived indicators, or use 'in (...)' for long lists of alternatives"),
        )

    # -- token helpers -------------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, value: str) -> bool:
        token = self.peek()
        return token.kind == kind and token.value == value

    def fail(self, token: Token, hint: str) -> NoReturn:
        if token.kind == "eof":
            fail(self.text, token.pos, _("unexpected end of input"), hint)
        fail(self.text, token.pos, _("unexpected {token}").format(
            token=quote(self.text[token.pos : token.end])), hint)

    def expect(self, kind: str, value: str, hint: str) -> Token:
        if not self.at(kind, value):
            self.fail(self.peek(), hint)
        return self.advance()

    # -- grammar -------------------------------------------------------------------------------

    def expr(self, power: int, need: str) -> Node:
        """Parse operators binding tighter than ``power``; ``need`` explains a missing operand."""
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            self.too_deep(self.peek())
        left = self.prefix(power, need)
        after_comparison = False
        while True:
            token = self.peek()
            key = str(token.value) if token.kind in ("kw", "op") else ""
            bind = _INFIX_POWER.get(key)
            if bind is None or bind <= power:
                self.nesting -= 1
                return left
            if bind == _CMP and after_comparison:
                self.fail(
                    token,
                    _("comparisons cannot be chained; join them with 'and', e.g. 'a < b and b < c'"),
                )
            self.advance()
            left = self.infix(token, key, left)
            after_comparison = bind == _CMP

    def prefix(self, power: int, need: str) -> Node:
        token = self.advance()
        pos = token.pos
        if token.kind == "num":
            assert isinstance(token.value, int | float)
            return Number(token.value, pos=pos)
        if token.kind == "str":
            return String(str(token.value), pos=pos)
        if token.kind == "qname":
            return Name(str(token.value), pos=pos)
        if token.kind == "name":
            if self.at("op", "("):
                return self.call(token)
            return Name(str(token.value), pos=pos)
        if token.kind == "kw" and token.value in ("true", "false"):
            return Boolean(token.value == "true", pos=pos)
        if token.kind == "kw" and token.value == "null":
            return Null(pos=pos)
        if token.kind == "kw" and token.value == "not":
            if power >= _CMP:
                self.fail(token, _("put the negated condition in parentheses, e.g. 'a == (not b)'"))
            return Not(self.expr(_NOT_POWER, _("'not' needs a condition after it")), pos=pos)
        if token.kind == "op" and token.value == "-":
            return Neg(self.expr(_NEG_POWER, _("'-' needs a value after it")), pos=pos)
        if token.kind == "op" and token.value == "(":
            inner = self.expr(0, _(_START))
            if not self.at("op", ")"):
                self.fail(self.peek(), _close_hint(self.text, token, self.peek()))
            self.advance()
            return inner
        if token.kind == "op" and token.value == "+":
            self.fail(token, _("a leading '+' is not needed; remove it"))
        self.fail(token, need)

    def infix(self, token: Token, key: str, left: Node) -> Node:
        pos = token.pos
        if key in ("and", "or"):
            right = self.expr(_INFIX_POWER[key], _("'{op}' needs a condition on both sides").format(op=key))
            return Logical(key, left, right, pos=pos)
        if key in COMPARISONS:
            right = self.expr(_CMP, _("a comparison needs a value on both sides"))
            return Compare(key, left, right, pos=pos)
        if key in ARITHMETIC:
            right = self.expr(_INFIX_POWER[key], _("'{op}' needs a value on both sides").format(op=key))
            return Arith(key, left, right, pos=pos)
        negated = False
        if key == "not":
            after = self.peek()
            if not (after.kind == "kw" and after.value in ("between", "in")):
                self.fail(
                    token,
                    _("'not' goes before a condition ('not x > 5'); after a value "
                      "write 'not between' or 'not in'"),
                )
            negated = True
            key = str(self.advance().value)
        if key == "between":
            form = _("write 'x between low and high' (both bounds included)")
            low = self.expr(_CMP, form)
            self.expect("kw", "and", form)
            high = self.expr(_CMP, form)
            return Between(left, low, high, negated, pos=pos)
        if key == "in":
            return InList(left, self.in_items(), negated, pos=pos)
        # key == "is"
        is_form = _("write 'x is null' or 'x is not null'; to test a flag write 'x' or 'not x'")
        negated = self.at("kw", "not")
        if negated:
            self.advance()
        self.expect("kw", "null", is_form)
        return IsNull(left, negated, pos=pos)

    def in_items(self) -> tuple[Node, ...]:
        opening = self.expect("op", "(", _("write 'x in (a, b, ...)'"))
        if self.at("op", ")"):
            self.fail(self.peek(), _("an 'in' list needs at least one value"))
        items = [self.expr(0, _("write 'x in (a, b, ...)'"))]
        while self.at("op", ","):
            self.advance()
            items.append(self.expr(0, _("a ',' in an 'in' list must be followed by a value")))
        if not self.at("op", ")"):
            self.fail(self.peek(), _close_hint(self.text, opening, self.peek()))
        self.advance()
        return tuple(items)

    def call(self, name: Token) -> Node:
        func = str(name.value).lower()
        opening = self.advance()
        if func == "date":
            return self.date_literal(name)
        if func not in FUNCTIONS:
            close = difflib.get_close_matches(func, [*FUNCTIONS, "date"], n=1)
            known = _(", ").join(sorted([*FUNCTIONS, "date"]))
            hint = (_("did you mean '{name}'? functions: {known}").format(name=close[0], known=known)
                    if close else _("functions: {known}").format(known=known))
            fail(self.text, name.pos,
                 _("unknown function {name}").format(name=quote(str(name.value))), hint)
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.expr(0, _("{func}() needs a value for each argument").format(func=func)))
            while self.at("op", ","):
                self.advance()
                args.append(self.expr(0, _("a ',' in {func}() must be followed by a value").format(func=func)))
        if not self.at("op", ")"):
            self.fail(self.peek(), _close_hint(self.text, opening, self.peek()))
        self.advance()
        return Call(func, tuple(args), pos=name.pos)

    def date_literal(self, name: Token) -> Node:
        form = _("write a date as date('YYYY-MM-DD'), e.g. date('2026-01-31')")
        token = self.advance()
        if token.kind != "str":
            self.fail(token, form)
        text = str(token.value)
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            value = datetime.date.fromisoformat(text)
        except ValueError:
            fail(self.text, token.pos, _("{text} is not a valid date").format(text=quote(text)),
                 form)
        self.expect("op", ")", form)
        return DateLiteral(value, pos=name.pos)


def _raise_empty(text: str) -> NoReturn:
    fail(text, 0, _("empty expression"), _("write a condition such as 'orders_12m >= 10'"))


def _after_value_hint(token: Token) -> str:
    if token.kind == "op" and token.value == ")":
        return _("this ')' has no matching '('; remove it")
    if token.kind == "op" and token.value == ",":
        return _("commas only separate function arguments and 'in' list values")
    if token.kind == "op" and token.value == "(":
        return _("only function names can be followed by '('; put an operator before it")
    return (
        _("put an operator between two values: 'and', 'or', a comparison such as '>=', "
          "or arithmetic such as '+'")
    )


def _close_hint(text: str, opening: Token, seen: Token) -> str:
    if seen.kind == "eof":
        return _("add a ')' to close the '(' at {where}").format(where=where(text, opening.pos))
    if seen.kind in ("num", "str", "name", "qname"):
        return _("separate values with ',' or put an operator between them")
    return _("expected ',' or ')'")
