"""The safe expression language of tierwise.

Users write conditions and derived indicators in YAML, e.g. ``orders_12m >= 10 and
spend_12m >= 10000`` or ``coalesce(margin, 0) / greatest(revenue, 1)``. The text is tokenized and
parsed by hand into a small typed tree, type-checked, and compiled to ibis expressions; it never
reaches ``eval`` or SQL text. The language has no loops, no user functions and no assignment.

Typical use::

    node = parse("spend_12m >= 10000 and channel in ('web', 'app')")
    check(node, {"spend_12m": "number", "channel": "string"})  # -> "bool"
    table.filter(ibis.coalesce(compile_expr(node, table, as_of=as_of), False))
"""

from __future__ import annotations

from tierwise.expr.analysis import Atom, atoms, names, unsatisfiable
from tierwise.expr.ast import Node
from tierwise.expr.compile import compile_expr
from tierwise.expr.parser import parse
from tierwise.expr.render import render
from tierwise.expr.typecheck import check

__all__ = [
    "Atom",
    "Node",
    "atoms",
    "check",
    "compile_expr",
    "names",
    "parse",
    "render",
    "unsatisfiable",
]
