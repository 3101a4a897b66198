"""The method protocol: everything the services need from a grading method.

How to add a method, with a worked example: ``docs/architecture.md`` section 9.

A method is one object (an instance of a :class:`Method` subclass) registered under the name a
scheme gives as ``method:`` (see :mod:`tierwise.methods.registry`). Its scheme section is a
pydantic model derived from :class:`~tierwise.spec.schemes.SchemeBase`; the section checks
itself (pydantic fields, and :meth:`~tierwise.spec.schemes.SchemeBase.problems` for what only
the whole project reveals). The services call the method through this protocol only, so they
never test spec types:

=====================  ========================================================================
member                 what it gives
=====================  ========================================================================
``name``, ``spec``     the ``method:`` value and the scheme section's model
``indicators``         the indicators the scheme reads (the feature compiler adds dependencies)
``tiers``              the scheme's tiers, best first
``score_ranks``        whether a higher ``score`` means a better customer
``fit``                what the method learns from the data (a :class:`FittedModel`), or None
``grade``              the common grade table (:mod:`tierwise.methods.base`)
``texts``              reasons and gap, rendered from the grade table and indicator values
``describe``           a fitted model as (label, text) lines for people
``criteria``           the scheme in words: how it grades, what puts a customer in each tier
``load_model``         a fitted model back from its JSON form in ``run.json`` (and artifact)
``training_need``      training data the service must build first (an outcome), or None
``analysis``           a post-grade analysis (one count query, then ``finish``), or None
``within_margin``      the downgrade-margin test; methods without fixed thresholds refuse
``closed_details``     string detail columns whose every value is known before grading
=====================  ========================================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from tierwise.errors import MethodError
from tierwise.methods.criteria import Criteria
from tierwise.methods.fitted import FittedModel
from tierwise.spec.columns import PREVIOUS_TIER

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.schemes import SchemeBase, TierSpec

S = TypeVar("S", bound="SchemeBase")
R = TypeVar("R")


@dataclass(frozen=True)
class OutcomeTraining:
    """Training data a method needs the service to build: who reached an outcome.

    The service computes ``features`` as of T - horizon (the window of ``outcome``, an
    aggregate indicator) and labels each customer ``_label`` 1 when they reached the outcome's
    top ``top_share`` by T (``event: top``) or had none of it over the window (``event: none``).
    """

    outcome: str
    features: tuple[str, ...]
    top_share: float
    event: Literal["top", "none"]


class Analysis(ABC, Generic[R]):
    """A method's look at how its scheme behaved on the data, after grading.

    The service executes :attr:`query` (one row of counts, one scan of the features), then
    calls :meth:`finish` with those counts and the customers per computed tier.
    """

    @property
    @abstractmethod
    def query(self) -> ir.Table:
        """A one-row aggregate of the feature table: every count the analysis needs."""

    @abstractmethod
    def finish(self, counts: Mapping[str, int], wins: Mapping[str, int]) -> R:
        """The analysis from the counts of :attr:`query` and the customers per computed tier."""


class Method(ABC, Generic[S]):
    """A grading method: turns the feature table into the grade table (see the module doc).

    Subclasses set :attr:`name` and :attr:`spec` and implement the abstract members; the
    others have the defaults of a method that learns nothing, needs no training data, has no
    analysis and no fixed thresholds.
    """

    #: The ``method:`` value of its schemes.
    name: ClassVar[str]
    #: The pydantic model of its scheme section (a ``SchemeBase`` with ``method: Literal[name]``).
    spec: ClassVar[type[SchemeBase]]
    #: Whether a higher ``score`` means a better customer (it orders customers within tiers).
    score_ranks: ClassVar[bool] = True

    @abstractmethod
    def reads(self, spec: S) -> list[str]:
        """The indicators the method itself reads (``indicators`` adds the scheme's value)."""

    def indicators(self, spec: S) -> list[str]:
        """Indicators the scheme reads directly, once each: the method's, then its value.

        :data:`~tierwise.spec.columns.PREVIOUS_TIER` is not an indicator (the run adds it from
        the previous run's grades), so it is left out.
        """
        read = [*self.reads(spec), *([spec.value] if spec.value else [])]
        return [n for n in dict.fromkeys(read) if n != PREVIOUS_TIER]

    @abstractmethod
    def tiers(self, spec: S) -> list[TierSpec]:
        """The scheme's tiers, best first."""

    def fit(self, spec: S, features: ir.Table, *, as_of: date, previous: FittedModel | None,
            training: ir.Table | None) -> FittedModel | None:
        """What the method learns from ``features``; None for a method that learns nothing.

        ``previous`` is the model of the previous official run; ``training`` the table the
        service built for :meth:`training_need`.
        """
        del spec, features, as_of, previous, training
        return None

    @abstractmethod
    def grade(self, spec: S, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        """Grade every customer of ``features`` (a learning method given no model fits one)."""

    @abstractmethod
    def texts(self, spec: S, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        """Reasons and gap of graded customers (``table``: grade columns and indicator values)."""

    def describe(self, model: FittedModel) -> list[tuple[str, str]]:
        """A fitted model as (label, text) lines for people."""
        del model
        return []

    def criteria(self, spec: S) -> Criteria:
        """The scheme in words (:mod:`tierwise.methods.criteria`); the default says nothing."""
        del spec
        return Criteria()

    def load_model(self, data: Mapping[str, Any], artifact: bytes | None) -> FittedModel | None:
        """A fitted model from its JSON form (``run.json``) and artifact; None if unreadable."""
        del data, artifact
        return None

    def closed_details(self, spec: S) -> dict[str, list[str]]:
        """String detail columns of :meth:`grade` that hold only listed values (or null).

        The run writes such a column from its list, not by hashing every row's string (see
        :meth:`~tierwise.engine.Engine.write_parquet`). A list that misses a value costs a
        second write, never a wrong file. The default lists none.
        """
        del spec
        return {}

    def training_need(self, spec: S) -> OutcomeTraining | None:
        """Outcome training data the service must build before :meth:`fit`, or None."""
        del spec
        return None

    def analysis(self, spec: S, features: ir.Table, *, as_of: date) -> Analysis[Any] | None:
        """The post-grade analysis of the scheme on ``features``, or None."""
        del spec, features, as_of
        return None

    def within_margin(self, spec: S, features: ir.Table, held: ir.Table, margin: float, *,
                      as_of: date, scores: ir.Table | None) -> ir.Table:
        """Whether each customer of ``held`` meets the held tier's loosened thresholds.

        Returns ``(customer_id, within_margin)``: the held tier's thresholds loosened by
        ``margin`` (see :mod:`tierwise.methods.margin`).

        Raises:
            MethodError: The method has no fixed thresholds (the default).

        """
        del features, held, margin, as_of, scores
        raise MethodError(
            f"method {spec.method!r} ranks customers and has no fixed thresholds to loosen by a "
            "downgrade margin; use `stability.downgrade_after` instead (validation should have "
            "caught this)")


__all__ = ["Analysis", "Method", "OutcomeTraining"]
