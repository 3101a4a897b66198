"""Narrowing a listing query by the filters a caller gave."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def where_equal(query: sa.Select[Any], table: sa.Table, **values: object) -> sa.Select[Any]:
    """``query`` limited to rows whose columns equal ``values``; a None value does not filter.

    Example:
        ``where_equal(query, runs, status=status)`` filters on status only when one is given.
    """
    for column, value in values.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return query
