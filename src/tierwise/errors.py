"""The one error tree of tierwise.

Every error a user can meet derives from :class:`TierwiseError`. Messages say what failed, where
(file:line, field path, table/row/column), the value seen, and how to fix it. Only the edges (CLI,
REST API) translate errors into exit codes or HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _english(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


_plurals: list[Callable[[str, str, int], str]] = [_english]


def use_plurals(ngettext_: Callable[[str, str, int], str]) -> None:
    """Word counts in errors with ``ngettext_`` (``tierwise.i18n`` passes its catalogue's).

    The error tree sits below the message catalogues, so they hand it their plural function.
    """
    _plurals[0] = ngettext_


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n`` in the current language (English until set)."""
    return _plurals[0](singular, plural, n)


class TierwiseError(Exception):
    """Base class of every error tierwise raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a file or a table.

    Attributes:
        message: What is wrong and how to fix it.
        where: A location such as ``tierwise.yaml:12`` or ``orders.csv row 18``.
        path: The field path inside a spec (``schemes.value.tiers[0].when``), if any.

    """

    message: str
    where: str = ""
    path: str = ""

    def __str__(self) -> str:
        head = ": ".join(part for part in (self.where, self.path) if part)
        return f"{head}: {self.message}" if head else self.message


class SpecError(TierwiseError):
    """A project spec (``tierwise.yaml``) or an API model is invalid.

    Carries every problem found, so a user fixes them all in one pass.
    """

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = ngettext("{n} problem:", "{n} problems:", count).format(n=count)
        super().__init__(f"{head}\n" + "\n".join(f"  - {p}" for p in self.problems))


class ExprError(SpecError):
    """An expression in the safe expression language does not parse or type-check."""


class DataError(TierwiseError):
    """Input data fails its checks; carries the data-quality report when there is one."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class DeliveryError(TierwiseError):
    """A receiver an action delivers to (an SMTP server) cannot be reached or refuses the login.

    Nothing was sent: the ledger rows stay due for the next delivery.
    """


class EngineError(TierwiseError):
    """The compute engine failed.

    The message says what failed without the SQL, so it can be shown to anyone (the REST API
    returns it). The generated SQL, when there is one, is kept on the exception as :attr:`sql`
    and added as a note, so a traceback (``tierwise --debug``) still shows it to data engineers,
    and the API can log it under an error id.

    Attributes:
        sql: the SQL the engine was running, or None.

    """

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        super().__init__(message)
        self.sql = sql
        if sql is not None:
            self.add_note(f"-- generated SQL:\n{sql}")


class QueryTimeout(EngineError):
    """Work ran past its time limit and the engine stopped it (a search, a preview).

    Attributes:
        seconds: The limit that was passed.
    """

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class MethodError(TierwiseError):
    """A grading method cannot grade the data it was given (e.g. no variation to rank)."""


class NotFittedError(MethodError):
    """A model was used before it was fitted."""


class ConvergenceError(MethodError):
    """A model fit did not converge."""


class StoreError(TierwiseError):
    """The store (scheme versions, runs, history) refused an operation."""


class NotFoundError(StoreError):
    """The object asked for does not exist."""


class ConflictError(StoreError):
    """A concurrent change or an existing object conflicts with the request."""


class PermissionDenied(StoreError):
    """The actor may not do this."""
