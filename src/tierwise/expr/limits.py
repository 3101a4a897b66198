"""Bounds on the cost of an expression: its length, nesting, size, and the SQL it compiles to.

Anyone who may search customers can send an expression (``GET /api/v1/customers?where=...``),
so what an expression may cost is bounded before it reaches an engine:

* the text is at most :data:`MAX_LENGTH` characters, the tree at most :data:`MAX_DEPTH` levels
  deep and :data:`MAX_NODES` nodes large; :func:`check_tree` walks a tree without recursion, so
  even a hand-built tree 100,000 levels deep is refused rather than overflowing Python's stack;
* the compiler writes each argument once in the SQL unless it is tiny (see
  :mod:`tierwise.expr.compile`), so the SQL grows linearly with the text:
  :func:`sql_budget` states the bound, and the tests hold every compiled expression to it.

The numbers are the module constants below; each says why it is what it is.
"""

from __future__ import annotations

from typing import NoReturn

from tierwise.errors import ExprError
from tierwise.expr.ast import Node, children
from tierwise.expr.lexer import fail, quote, where
from tierwise.i18n import _

#: Longest expression text, in characters. The longest condition in the examples has 55
#: characters and a 200-value ``in`` list of store codes about 1,500; past this an expression
#: belongs in derived indicators, and a search box never needs more.
MAX_LENGTH = 4_000

#: Deepest nesting: levels of the tree, and levels of parentheses, calls and prefix operators
#: while parsing. The passes over the tree recurse, and so do ibis and sqlglot when they write the
#: SQL, several Python frames a level. Measured at 48 levels, the costliest shape, ``floor()``
#: around ``sqrt()`` around ``floor()`` and so on, still leaves 340 of Python's 1,000 frames to
#: the caller (a web server's thread, a CLI); at 64 levels only 118 were left. 48 admits the
#: 40 nested ``round()`` calls of the security review and ``or`` chains of 48 alternatives
#: (longer lists belong in ``in (...)``).
MAX_DEPTH = 48

#: Most nodes in one tree (names, literals, operators, calls). Compiling costs about 0.1 ms a
#: node; 1,000 nodes is a 1,000-value ``in`` list, far beyond any hand-written condition.
MAX_NODES = 1_000

#: Digits ``round(x, digits)`` accepts. A double holds 15 to 17 significant digits, so rounding
#: to more than 15 places changes nothing a person reads, and ``10 ** 309`` is no longer a double.
ROUND_DIGITS = (0, 15)

#: The linear bound on compiled SQL: at most ``SQL_PER_CHAR`` characters of SQL per character of
#: expression text, plus ``SQL_BASE``. Over the 50,000 texts of the fuzz test (tests/expr) the
#: largest ratio was 80, from ``-round(div(-(visits), round(6e10, 2), -1), 1)``: rounding a
#: double writes its small argument 7 times. The bound leaves twice that. Before arguments
#: were bound once, five nested ``round(x, 2)`` (51 characters) compiled to 1.5 MB.
SQL_PER_CHAR = 160
#: The constant part of the bound: the ``SELECT ... FROM`` around an expression, with room for
#: long column names.
SQL_BASE = 1_000


def sql_budget(text: str) -> int:
    """Return the most characters of SQL an expression of this text may compile to.

    Args:
        text: The expression text.

    Returns:
        ``SQL_PER_CHAR * len(text) + SQL_BASE``.
    """
    return SQL_PER_CHAR * len(text) + SQL_BASE


def check_length(text: str) -> None:
    """Refuse a text longer than :data:`MAX_LENGTH` characters.

    Args:
        text: The expression text.

    Raises:
        ExprError: When the text is too long; the message gives its length, the limit and the
            column where the limit is passed.
    """
    if len(text) > MAX_LENGTH:
        raise ExprError(
            _("the expression is {length} characters long, more than the {limit} allowed (the "
              "limit is passed at {where} of {start}); split it into derived indicators, or use "
              "'x in (...)' instead of many 'or' alternatives").format(
                  length=f"{len(text):,}", limit=f"{MAX_LENGTH:,}", where=where(text, MAX_LENGTH),
                  start=quote(text[:40] + "..."))
        )


def check_tree(node: Node, text: str | None = None) -> None:
    """Refuse a tree deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES`.

    The walk uses an explicit stack, so a tree of any depth is refused without recursion.

    Args:
        node: The root of the tree.
        text: The source text, if the tree was parsed, to quote it in the message.

    Raises:
        ExprError: Naming the limit, where it is passed and how to simplify the expression.
    """
    count = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        count += 1
        if level > MAX_DEPTH:
            _refuse(
                current,
                text,
                _("expression nested more than {depth} levels deep").format(depth=MAX_DEPTH),
                _("split it into derived indicators, or use 'in (...)' for long lists of "
                  "alternatives"),
            )
        if count > MAX_NODES:
            _refuse(
                current,
                text,
                _("expression has more than {limit} names, values and operators, passing the "
                  "limit").format(limit=f"{MAX_NODES:,}"),
                _("split it into derived indicators"),
            )
        # Reversed, so nodes are met left to right and a message points at the first offender.
        stack.extend((child, level + 1) for child in reversed(children(current)))


def _refuse(node: Node, text: str | None, what: str, hint: str) -> NoReturn:
    if text is not None:
        fail(text, node.pos, what, hint)
    raise ExprError(_("{what} at column {column}; {hint}").format(what=what, column=node.pos + 1,
                                                                   hint=hint))
