"""Which schemes do not exist for the person a request is served for (confidential schemes).

A confidential scheme exists only for the roles it names. Rather than every page and endpoint
remembering to filter, the store itself answers as if such a scheme were missing: looked up by
name it is unknown, with the very message a missing scheme gets; its runs and overrides are
missing by id; it is left out of every listing. So a new page cannot leak it by forgetting a
check.

The edges open a :func:`scope` around each request (an ASGI middleware) and, once they know the
user, call :func:`hide` with the schemes that user may not see. Outside a scope (the command
line, the scheduler, background jobs) nothing is hidden: those run as the system. The scope
holds a mutable cell, so a dependency that runs in a worker thread (with a copy of the request's
context) still fills the request's cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CELL: ContextVar[list[frozenset[str]] | None] = ContextVar("tierwise_hidden_schemes",
                                                             default=None)


@contextmanager
def scope() -> Iterator[None]:
    """A request's scope: nothing hidden until :func:`hide` says what the user may not see."""
    token = _CELL.set([frozenset()])
    try:
        yield
    finally:
        _CELL.reset(token)


def hide(names: Iterable[str]) -> None:
    """Hide ``names`` for the rest of the current scope.

    Raises:
        RuntimeError: no scope is open (an edge that serves people must open one, or it
            would show everything).

    """
    cell = _CELL.get()
    if cell is None:
        raise RuntimeError("no visibility scope is open: wrap the request in "
                           "tierwise.store.visibility.scope()")
    cell[0] = frozenset(names)


def hidden() -> frozenset[str]:
    """The schemes hidden in the current scope (none outside a scope)."""
    cell = _CELL.get()
    return cell[0] if cell is not None else frozenset()


def is_hidden(scheme: str) -> bool:
    """Whether ``scheme`` does not exist for the current request's user."""
    cell = _CELL.get()
    return cell is not None and scheme in cell[0]
