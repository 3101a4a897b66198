"""The safe expression language of tierwise.

Users write conditions and derived indicators in YAML, e.g. ``orders_12m >= 10 and
spend_12m >= 10000`` or ``coalesce(margin, 0) / greatest(revenue, 1)``. The text is tokenized and
parsed by hand into a small typed tree, type-checked, and compiled to ibis expressions; it never
reaches ``eval`` or SQL text. The language has no loops, no user functions and no assignment.

Typical use::

    node = parse("spend_12m >= 10000 and channel in ('web', 'app')")
    check(node, {"spend_12m": "number", "channel": "string"})  # -> "bool"
    table.filter(compile_condition(node, table, as_of=as_of))

What an expression may cost is bounded (:mod:`tierwise.expr.limits`): its length, nesting and
size are capped, and the SQL it compiles to grows linearly with its text.
"""

from __future__ import annotations

from tierwise.expr.analysis import Atom, atoms, functions, names, unsatisfiable
from tierwise.expr.ast import Node
from tierwise.expr.compile import compile_condition, compile_expr
from tierwise.expr.parser import parse
from tierwise.expr.render import render
from tierwise.expr.typecheck import check, check_condition, type_name

__all__ = [
    "Atom",
    "Node",
    "atoms",
    "check",
    "check_condition",
    "compile_condition",
    "compile_expr",
    "functions",
    "names",
    "parse",
    "render",
    "type_name",
    "unsatisfiable",
]
