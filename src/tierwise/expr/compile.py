"""Compiler from the syntax tree to ibis expressions.

Only ibis APIs are used, never SQL text, so the same tree runs on every ibis backend. Where engines
disagree the compiler picks one behaviour and builds it explicitly:

* division, ``%``, ``ln``, ``log10`` and ``sqrt`` get their argument replaced by null where it is
  out of range (divisor 0, logarithm of x <= 0, root of x < 0), because Spark in ANSI mode raises,
  DuckDB raises for logarithms of negatives and returns NULL or infinity elsewhere. Guarding the
  argument rather than the result means no engine ever evaluates the bad value.
* day differences use ``delta(unit="day")`` on dates (timestamps are cut to their date first), since
  subtracting timestamps returns different Python types per backend.
* integer literals are typed ``int64`` and float literals ``float64``: ibis would otherwise pick the
  narrowest type (``int8``) and engines promote narrow types differently.

ibis is imported lazily so that parsing and checking stay cheap for the CLI.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tierwise.errors import ExprError
from tierwise.expr.ast import (
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
from tierwise.expr.typecheck import check

if TYPE_CHECKING:
    import ibis

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_expr(node: Node, env: Mapping[str, ibis.Value], *, as_of: datetime.date) -> ibis.Value:
    """Compile an expression to an ibis value expression.

    The expression is type-checked first against the types of the ``env`` columns, so a tree
    that compiles is well typed.

    Args:
        node: The root of the tree, from :func:`tierwise.expr.parse`.
        env: The value of every name, usually columns such as ``table.spend_12m``; an ibis
            table works too and offers its columns.
        as_of: The date ``days_since`` counts to (a ``datetime`` is cut to its date).

    Returns:
        An ibis value: a column when the expression uses a column, else a scalar. Conditions are
        boolean and stay null where an operand is null (wrap them in ``coalesce(..., False)``).

    Raises:
        ExprError: If the expression does not type-check against ``env``.
    """
    # All names, not just the used ones, so an unknown name gets a "did you mean".
    # An ibis Table is accepted as env too: it maps column names to columns.
    known = env.columns if hasattr(env, "columns") else list(env)
    check(node, {name: _kind(env[name]) for name in known})
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    return _Compiler(env, as_of).visit(node)


def _kind(value: ibis.Value) -> str:
    """Map an ibis data type to the expression type system; other types pass through by name."""
    dtype = value.type()
    if dtype.is_numeric():
        return "number"
    if dtype.is_string():
        return "string"
    if dtype.is_date() or dtype.is_timestamp():
        return "date"
    if dtype.is_boolean():
        return "bool"
    return str(dtype)


class _Compiler:
    def __init__(self, env: Mapping[str, ibis.Value], as_of: datetime.date) -> None:
        import ibis

        self.ibis = ibis
        self.env = env
        self.as_of = as_of

    def visit(self, node: Node) -> ibis.Value:
        ibis = self.ibis
        if isinstance(node, Number):
            if isinstance(node.value, int):
                return ibis.literal(node.value, type="int64")
            return self.double(node.value)
        if isinstance(node, String):
            return ibis.literal(node.value, type="string")
        if isinstance(node, Boolean):
            return ibis.literal(node.value, type="boolean")
        if isinstance(node, Null):
            return ibis.null()
        if isinstance(node, DateLiteral):
            return ibis.literal(node.value, type="date")
        if isinstance(node, Name):
            return self.name(node.name)
        if isinstance(node, Neg):
            return -self.visit(node.operand)
        if isinstance(node, Not):
            return ~self.visit(node.operand)
        if isinstance(node, Logical):
            left, right = self.visit(node.left), self.visit(node.right)
            return left & right if node.op == "and" else left | right
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Compare):
            left, right = self.same_kind(self.visit(node.left), self.visit(node.right))
            return _COMPARE[node.op](left, right)
        if isinstance(node, Between):
            operand, low, high = self.same_kind(
                self.visit(node.operand), self.visit(node.low), self.visit(node.high)
            )
            inside = operand.between(low, high)
            return ~inside if node.negated else inside
        if isinstance(node, InList):
            operand, *items = self.same_kind(
                self.visit(node.operand), *(self.visit(item) for item in node.items)
            )
            found = operand.isin(items)
            return ~found if node.negated else found
        if isinstance(node, IsNull):
            operand = self.visit(node.operand)
            return operand.notnull() if node.negated else operand.isnull()
        return self.call(node)

    def name(self, name: str) -> ibis.Value:
        value = self.env[name]
        dtype = value.type()
        # Narrow numbers widen to 64 bits: 'int32 * 1000000' overflows in SQL (an error on both
        # engines) although the user only wrote numbers.
        if dtype.is_integer() and dtype.nbytes < 8:
            return value.cast("int64")
        if dtype.is_floating() and dtype.nbytes < 8:
            return value.cast("float64")
        return value

    def arith(self, node: Arith) -> ibis.Value:
        left = self.visit(node.left)
        right = self.visit(node.right)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        # A literal non-zero divisor needs no guard; skipping it keeps the generated SQL plain.
        if not (isinstance(node.right, Number) and node.right.value != 0):
            right = self.nonzero(right)
        return self.divide(left, right) if node.op == "/" else left % right

    def nonzero(self, value: ibis.Value) -> ibis.Value:
        """``value``, or null where it is 0."""
        return self.ibis.ifelse(value == 0, self.ibis.null(), value)

    def divide(self, top: ibis.Value, bottom: ibis.Value) -> ibis.Value:
        # Spark divides decimals in decimal arithmetic rounded to 6 places, DuckDB in doubles:
        # dividing doubles everywhere gives the same digits on both.
        return top.cast("float64") / bottom.cast("float64")

    def double(self, value: float) -> ibis.Value:
        """A float64 literal that every engine reads as a double.

        ibis writes ``365.25`` into the SQL as is, which Spark (like standard SQL) reads as
        DECIMAL(5, 2); ``int / 365.25`` then comes back rounded to 6 places. A cast from text is
        exact, because ``repr`` is the shortest text that reads back to the same double.
        """
        return self.ibis.literal(repr(float(value))).cast("float64")

    def round(self, value: ibis.Value, digits: int) -> ibis.Value:
        """Round half away from zero, with the same result on every engine.

        Engines agree on rounding decimals and on rounding doubles to whole numbers, but not on
        rounding doubles to digits: DuckDB rounds ``x * 10^d`` computed in doubles
        (1.005 * 100 = 100.49999999999999, so 1.0), Spark the shortest decimal text of x
        (1.01). Doubles are therefore rounded here the DuckDB way, spelled out in IEEE operations
        that are exact or correctly rounded on every engine: ``floor(|x| * 10^d + 0.5) / 10^d``,
        with ``floor(y) = y - y % 1`` (exact for y >= 0 and free of the int64 overflow of
        ``floor``).
        """
        if not value.type().is_floating() or digits == 0:
            return value.round(digits)
        ibis = self.ibis
        scale = self.double(10.0**digits)
        shifted = value.abs() * scale + self.double(0.5)
        rounded = (shifted - shifted % self.double(1.0)) / scale
        signed = ibis.ifelse(value < 0, -rounded, rounded)
        # From 2^52 up a double has no fraction left, and adding 0.5 would round to even.
        return ibis.ifelse(value.abs() * scale < self.double(2.0**52), signed, value)

    def only_where(self, condition: ibis.Value, value: ibis.Value) -> ibis.Value:
        return self.ibis.ifelse(condition, value, self.ibis.null())

    def same_kind(self, *values: ibis.Value) -> list[ibis.Value]:
        """Cast dates to timestamps when mixed with timestamps (a date means its midnight)."""
        kinds = [value.type() for value in values]
        if any(k.is_timestamp() for k in kinds) and any(k.is_date() for k in kinds):
            pairs = zip(values, kinds, strict=True)
            return [value.cast("timestamp") if kind.is_date() else value for value, kind in pairs]
        return list(values)

    def as_date(self, value: ibis.Value) -> ibis.Value:
        """Cut a timestamp to its date, so day counts are calendar days on every engine."""
        return value.date() if value.type().is_timestamp() else value

    def call(self, node: Call) -> ibis.Value:
        ibis = self.ibis
        func = node.func
        if func == "round" and len(node.args) == 2:
            digits = node.args[1]
            assert isinstance(digits, Number)  # the type checker insists on an integer literal
            return self.round(self.visit(node.args[0]), int(digits.value))
        if func == "div":
            return self.div(node)
        if func == "is_null":
            return self.visit(node.args[0]).isnull()
        args = [self.visit(arg) for arg in node.args]
        if func == "coalesce":
            return ibis.coalesce(*self.same_kind(*args))
        if func == "least":
            return ibis.least(*self.same_kind(*args))
        if func == "greatest":
            return ibis.greatest(*self.same_kind(*args))
        if func == "if":
            then, otherwise = self.same_kind(args[1], args[2])
            return ibis.ifelse(args[0], then, otherwise)
        if func == "days_since":
            today = ibis.literal(self.as_of, type="date")
            return today.delta(self.as_date(args[0]), unit="day").cast("int64")
        if func == "days_between":
            return self.as_date(args[1]).delta(self.as_date(args[0]), unit="day").cast("int64")
        (value,) = args
        simple: dict[str, Callable[[Any], Any]] = {
            "abs": lambda v: v.abs(),
            "round": lambda v: v.round(),
            "floor": lambda v: v.floor(),
            "ceil": lambda v: v.ceil(),
            "ln": lambda v: self.only_where(v > 0, v).ln(),
            "log10": lambda v: self.only_where(v > 0, v).log10(),
            "sqrt": lambda v: self.only_where(v >= 0, v).sqrt(),
            "year": lambda v: v.year().cast("int64"),
            "month": lambda v: v.month().cast("int64"),
            "lower": lambda v: v.lower(),
            "upper": lambda v: v.upper(),
            "length": lambda v: v.length().cast("int64"),
        }
        if func not in simple:
            raise ExprError(f"unknown function '{func}'")
        return simple[func](value)

    def div(self, node: Call) -> ibis.Value:
        """``div(a, b[, default])``: ``a / b``, or the default where ``b`` is 0 or null."""
        ibis = self.ibis
        top, bottom = self.visit(node.args[0]), self.visit(node.args[1])
        quotient = self.divide(top, self.nonzero(bottom))
        if len(node.args) < 3 or isinstance(node.args[2], Null):
            return quotient
        default = self.visit(node.args[2])
        return ibis.ifelse(bottom.isnull() | (bottom == 0), default, quotient)
