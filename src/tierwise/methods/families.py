"""Two families of methods, so a method's class states only what is its own.

* :class:`DirectMethod`: grades from the spec and the features alone, learns nothing (rfm, abc,
  scorecard). It names its module's ``grade(spec, features)`` and ``texts(spec, table)``.
* :class:`LearningMethod`: fits a :class:`~tierwise.methods.fitted.FittedModel` first (cluster,
  clv, model). It names the model's type and its module's ``grade(spec, features, model)``,
  ``texts(spec, table)`` and ``describe(model)``; grading without a model fits one, and a model
  of another type is refused.

A method that fits neither (rules, which reads the as-of date) derives from
:class:`~tierwise.methods.protocol.Method` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from tierwise.errors import MethodError
from tierwise.methods.fitted import FittedModel
from tierwise.methods.protocol import Method, S

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: ``texts(spec, table) -> (reasons, gap)`` of a method's module.
Texts = Callable[[Any, "ir.Table"], tuple["ir.StringValue", "ir.Value"]]


class DirectMethod(Method[S]):
    """A method that learns nothing and needs no as-of date to grade or explain."""

    #: The module's ``grade(spec, features) -> grade table``.
    grade_with: ClassVar[Callable[[Any, ir.Table], ir.Table]]
    #: The module's ``texts(spec, table) -> (reasons, gap)``.
    texts_with: ClassVar[Texts]

    def grade(self, spec: S, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        """Grade with the module's ``grade``."""
        del as_of, model
        return type(self).grade_with(spec, features)

    def texts(self, spec: S, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        """Reasons and gap from the module's ``texts``."""
        del as_of
        return type(self).texts_with(spec, table)


class LearningMethod(Method[S]):
    """A method that fits a model of :attr:`model_type` and grades with it."""

    #: The type of its fitted models (with ``from_json(data, artifact)``).
    model_type: ClassVar[type[FittedModel]]
    #: The module's ``grade(spec, features, model) -> grade table``.
    grade_with: ClassVar[Callable[[Any, ir.Table, Any], ir.Table]]
    #: The module's ``texts(spec, table) -> (reasons, gap)``.
    texts_with: ClassVar[Texts]
    #: The module's ``describe(model) -> [(label, text)]``.
    describe_with: ClassVar[Callable[[Any], list[tuple[str, str]]]]

    def grade(self, spec: S, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        """Grade with ``model``; without one, fit one first (no previous model).

        Raises:
            MethodError: ``model`` is of another method.

        """
        if model is None:
            model = self.fit(spec, features, as_of=as_of, previous=None, training=None)
        if not isinstance(model, self.model_type):
            raise MethodError(f"{self.name}: the model given is a {type(model).__name__}, not a "
                              f"{self.model_type.__name__}; fit it with methods.fit")
        return type(self).grade_with(spec, features, model)

    def texts(self, spec: S, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        """Reasons and gap from the module's ``texts``."""
        del as_of
        return type(self).texts_with(spec, table)

    def describe(self, model: FittedModel) -> list[tuple[str, str]]:
        """The module's ``describe`` of a model of this method; nothing for another."""
        return type(self).describe_with(model) if isinstance(model, self.model_type) else []

    def load_model(self, data: Mapping[str, Any], artifact: bytes | None) -> FittedModel | None:
        """The model from its JSON form and artifact (:meth:`FittedModel.from_json`)."""
        return self.model_type.from_json(data, artifact)


__all__ = ["DirectMethod", "LearningMethod"]
