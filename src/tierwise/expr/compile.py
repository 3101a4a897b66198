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

The SQL grows linearly with the expression. Some guards need their argument more than once:
rounding a double 7 times, ``div`` with a default 4 times, the zero guard of ``/`` and ``%`` and
the range guard of ``ln``, ``log10`` and ``sqrt`` twice. Repeating a compound argument doubles
the SQL with every level of nesting: five nested ``round(x, 2)`` compiled to 1.5 MB of SQL, 2 s
to write and 3 s to run over 5,000 rows (the security review saw 24 s). :meth:`_Compiler.once`
therefore repeats only arguments of at most :data:`MAX_REPEATED` operations, which keeps typical
indicators in the same plain SQL as before, and binds a larger one to a lambda parameter through
a one-element list: DuckDB ``list_extract(list_transform([v], x -> ...), 1)``, Spark
``element_at(transform(array(v), x -> ...), 1)``. A call nested directly in another maps the
same list again instead of wrapping it anew, so each level adds one level of SQL rather than
four. Forty nested ``round(x, 2)`` compile to 26 KB of SQL in under 0.1 s. The list costs DuckDB
about 30 ns a row (98 ms instead of 67 ms over 1M rows for a rounded 27-operation argument).

Measured and set aside: ``NULLIF(v, 0)`` for the zero guard and ``ln(nullif(greatest(v, 0), 0))``
for the logarithm name ``v`` once and give the same results on DuckDB and Spark (NULL, NaN, -0.0
and -inf included), but DuckDB defines ``nullif`` as a macro for ``CASE WHEN a = b THEN NULL
ELSE a END``, which doubles inside the binder instead (14 nested ``nullif`` took 8 s), and
``sqrt``, rounding and ``div`` with a default have no single-reference form at all. Binding every
argument instead would cost that 30 ns a row even for ``round(spend / orders, 2)``.

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
from tierwise.expr.typecheck import check, check_condition
from tierwise.i18n import _

if TYPE_CHECKING:
    import ibis

#: Largest argument, in ibis operations counted as a tree, that a guard writes more than once
#: instead of binding it. 24 keeps the arguments of typical derived indicators plain, as they
#: were: a column (1), ``a / b`` (8), ``coalesce(margin, 0) / greatest(revenue, 1)`` (14),
#: ``div(a, b, 0) / 1000`` (20), ``sqrt(spend) * 10 / (orders + 1)`` (21); binding costs DuckDB
#: about 30 ns a row (a one-element list), repeating costs nothing at run time because both
#: engines eliminate common subexpressions. Rounding writes its argument 7 times, so copies add
#: at most 7 * 24 operations to any one call, whatever it contains.
MAX_REPEATED = 24

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
        boolean and stay null where an operand is null (:func:`compile_condition` makes them
        false there).

    Raises:
        ExprError: If the expression does not type-check against ``env``.
    """
    check(node, _types(env))
    return _Compiler(env, _day(as_of)).visit(node)


def compile_condition(
    node: Node, env: Mapping[str, ibis.Value], *, as_of: datetime.date
) -> ibis.BooleanValue:
    """Compile a condition to a boolean that is never null.

    For tier rules, filters and the ``where`` of indicators: a customer matches where the
    condition is true, and not where it is false or unknown (an operand is null).

    Args:
        node: The root of the tree, from :func:`tierwise.expr.parse`.
        env: The value of every name, as for :func:`compile_expr`.
        as_of: The date ``days_since`` counts to.

    Returns:
        ``coalesce(condition, false)`` as an ibis boolean.

    Raises:
        ExprError: If the expression does not type-check, or is not a condition (``1``,
            ``spend_12m``): the message says a condition must be true or false.
    """
    import ibis

    check_condition(node, _types(env))
    return ibis.coalesce(_Compiler(env, _day(as_of)).visit(node), False)


def _types(env: Mapping[str, ibis.Value]) -> dict[str, str]:
    # All names, not just the used ones, so an unknown name gets a "did you mean".
    # An ibis Table is accepted as env too: it maps column names to columns.
    known = env.columns if hasattr(env, "columns") else list(env)
    return {name: _kind(env[name]) for name in known}


def _day(as_of: datetime.date) -> datetime.date:
    return as_of.date() if isinstance(as_of, datetime.datetime) else as_of


def _common_decimal(kinds: set[Any]) -> Any:
    """The narrowest decimal holding every one of ``kinds``, or float64 past 38 digits."""
    import ibis.expr.datatypes as dt

    if any(k.precision is None or k.scale is None for k in kinds):
        return dt.float64
    scale = max(k.scale for k in kinds)
    digits = max(k.precision - k.scale for k in kinds) + scale
    return dt.Decimal(digits, scale) if digits <= 38 else dt.float64


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
        # Sizes of the ibis operations seen so far, so each is measured once per compilation.
        self.sizes: dict[Any, int] = {}

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
        left, right = self.same_kind(self.visit(node.left), self.visit(node.right))
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        # A literal non-zero divisor needs no guard; skipping it keeps the generated SQL plain.
        if isinstance(node.right, Number) and node.right.value != 0:
            return self.divide(left, right) if node.op == "/" else left % right
        if node.op == "/":
            return self.once(right, lambda r: self.divide(left, self.nonzero(r)))
        return self.once(right, lambda r: left % self.nonzero(r))

    def size(self, value: ibis.Value) -> int:
        """How many ibis operations ``value`` writes into the SQL, each use of a shared one counted.

        Counted without recursion and remembered per operation, so measuring every argument of a
        deep expression costs time linear in its size.
        """
        import ibis.expr.operations as ops

        sizes = self.sizes
        root = value.op()
        stack = [root]
        while stack:
            op = stack[-1]
            if op in sizes:
                stack.pop()
                continue
            # Columns end the count: a Field's relation is written once, in FROM.
            kids = [c for c in op.__children__ if isinstance(c, ops.Value)]
            todo = [c for c in kids if c not in sizes]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            sizes[op] = 1 + sum(sizes[c] for c in kids)
        return sizes[root]

    def once(self, value: ibis.Value, use: Callable[[ibis.Value], ibis.Value]) -> ibis.Value:
        """``use(value)``, with ``value`` written once in the SQL however often ``use`` needs it.

        A small ``value`` (a column, a literal, ``a / b``) is simply repeated: the SQL stays
        plain and the engines eliminate the common subexpression. A larger one is bound to a
        lambda parameter through a one-element array, ``[value]`` mapped by ``use`` and read
        back: DuckDB ``list_transform([v], x -> ...)[1]``, Spark
        ``element_at(transform(array(v), x -> ...), 1)``.
        """
        import ibis.expr.operations as ops

        if self.size(value) <= MAX_REPEATED:
            return use(value)
        op = value.op()
        if isinstance(op, ops.ArrayIndex) and isinstance(op.arg, ops.ArrayMap):
            # ``value`` is bound already (the language has no arrays of its own): map its
            # one-element list again, so nested calls nest one SQL level each, not four.
            listed = op.arg.to_expr()
        else:
            listed = self.ibis.array([value])
        mapped = listed.map(lambda bound: use(bound))
        if listed.op().shape.is_scalar() and mapped.op().body.shape.is_columnar():
            # A constant argument under a lambda that reads columns (``x / (...)``): ibis would
            # type the result as a constant. A constant turns into part of a column only once,
            # so repeating it here costs a few copies, never a doubling per level.
            return use(value)
        return mapped[0]

    def nonzero(self, value: ibis.Value) -> ibis.Value:
        """``value``, or null where it is 0 (callers bind ``value`` with :meth:`once`)."""
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
            return self.whole(value).round(digits)
        ibis = self.ibis
        scale = self.double(10.0**digits)

        def use(x: Any) -> Any:
            shifted = x.abs() * scale + self.double(0.5)
            rounded = (shifted - shifted % self.double(1.0)) / scale
            signed = ibis.ifelse(x < 0, -rounded, rounded)
            # From 2^52 up a double has no fraction left, and adding 0.5 would round to even.
            return ibis.ifelse(x.abs() * scale < self.double(2.0**52), signed, x)

        return self.once(value, use)

    def only_where(
        self,
        condition: Callable[[ibis.Value], ibis.Value],
        value: ibis.Value,
        then: Callable[[ibis.Value], ibis.Value],
    ) -> ibis.Value:
        """``then(value)`` where ``condition(value)`` holds, else ``then(null)``."""
        ibis = self.ibis
        return self.once(value, lambda v: then(ibis.ifelse(condition(v), v, ibis.null())))

    def same_kind(self, *values: ibis.Value) -> list[ibis.Value]:
        """Make values that meet in one operation agree on their type.

        Dates mixed with timestamps become timestamps (a date means its midnight). Decimals of
        different precision or scale, which ibis refuses to combine, become one decimal wide
        enough for both (or doubles past 38 digits).
        """
        kinds = [value.type() for value in values]
        pairs = list(zip(values, kinds, strict=True))
        if any(k.is_timestamp() for k in kinds) and any(k.is_date() for k in kinds):
            return [value.cast("timestamp") if kind.is_date() else value for value, kind in pairs]
        decimals = {k.copy(nullable=True) for k in kinds if k.is_decimal()}
        if len(decimals) > 1:
            target = _common_decimal(decimals)
            return [value.cast(target) if kind.is_decimal() else value for value, kind in pairs]
        return list(values)

    def whole(self, value: ibis.Value) -> ibis.Value:
        """``value`` ready for floor, ceil or round: a result of those gets its type pinned.

        ibis works out the type of a floor or ceil by asking its argument twice, so a chain
        of them over decimals costs 2^n (25 nested floor() took 10 s to build); a cast in
        between answers at once.
        """
        import ibis.expr.operations as ops

        if isinstance(value.op(), ops.Floor | ops.Ceil | ops.Round):
            return ops.Cast(value, to=value.type()).to_expr()
        return value

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
            "round": lambda v: self.whole(v).round(),
            "floor": lambda v: self.whole(v).floor(),
            "ceil": lambda v: self.whole(v).ceil(),
            "ln": lambda v: self.only_where(lambda x: x > 0, v, lambda x: x.ln()),
            "log10": lambda v: self.only_where(lambda x: x > 0, v, lambda x: x.log10()),
            "sqrt": lambda v: self.only_where(lambda x: x >= 0, v, lambda x: x.sqrt()),
            "year": lambda v: v.year().cast("int64"),
            "month": lambda v: v.month().cast("int64"),
            "lower": lambda v: v.lower(),
            "upper": lambda v: v.upper(),
            "length": lambda v: v.length().cast("int64"),
        }
        if func not in simple:
            raise ExprError(_("unknown function '{func}'").format(func=func))
        return simple[func](value)

    def div(self, node: Call) -> ibis.Value:
        """``div(a, b[, default])``: ``a / b``, or the default where ``b`` is 0 or null."""
        ibis = self.ibis
        top, bottom = self.visit(node.args[0]), self.visit(node.args[1])
        if len(node.args) < 3 or isinstance(node.args[2], Null):
            return self.once(bottom, lambda b: self.divide(top, self.nonzero(b)))
        default = self.visit(node.args[2])

        def use(b: Any) -> Any:
            return ibis.ifelse(b.isnull() | (b == 0), default, self.divide(top, self.nonzero(b)))

        # The divisor is used four times; a large one is bound once, with the dividend and the
        # default inside the lambda (both engines let a lambda read the row's other values).
        return self.once(bottom, use)
