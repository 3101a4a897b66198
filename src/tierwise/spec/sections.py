"""The table of scheme sections: which spec model validates a scheme of each ``method:``.

A scheme's ``method:`` picks the pydantic model of its section (``RulesSchemeSpec`` for
``method: rules``). The methods themselves sit a layer above the specs, so the spec layer keeps
this table of its own: the built-in sections are entered when :mod:`tierwise.spec` is imported,
and :func:`tierwise.methods.registry.register` enters the section of a method registered at run
time. :data:`SchemeSpec` validates through the table when it is used, so the project loader,
the editor's validation, stored versions and the JSON schema of :class:`ProjectSpec` all accept
a registered method without any edit here. An unknown ``method:`` is an error at the
``method`` field that lists the known methods; nothing is graded by a fallback.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.spec.credit import CreditSchemeSpec
from tierwise.spec.learned import ClusterSchemeSpec, ClvSchemeSpec, ModelSchemeSpec
from tierwise.spec.risk import RiskSchemeSpec
from tierwise.spec.schemes import (
    AbcSchemeSpec,
    RfmSchemeSpec,
    RulesSchemeSpec,
    SchemeBase,
    ScorecardSchemeSpec,
)

_SECTIONS: dict[str, type[SchemeBase]] = {}
# Called before an unknown method is reported: the methods layer finds published plugins here,
# so scanning the installed packages costs nothing until a scheme names a method not known yet.
_DISCOVERY: list[Callable[[], object]] = []


def discover_with(hook: Callable[[], object]) -> None:
    """Call ``hook`` (e.g. a plugin loader) before a method is reported unknown."""
    if hook not in _DISCOVERY:
        _DISCOVERY.append(hook)


def _discover() -> None:
    for hook in list(_DISCOVERY):
        hook()


def method_name(model: type[SchemeBase]) -> str:
    """The ``method:`` value a scheme section model declares (its ``method: Literal[...]``).

    Raises:
        SpecError: ``model`` does not declare ``method`` as one literal text.

    """
    field = model.model_fields.get("method")
    values = typing.get_args(field.annotation) if field is not None else ()
    if (field is None or typing.get_origin(field.annotation) is not typing.Literal
            or len(values) != 1 or not isinstance(values[0], str)):
        raise SpecError(f"scheme section {model.__name__}: declare `method: Literal[\"name\"]` "
                        "(one text) so a scheme can name the method")
    return str(values[0])


def register_section(model: type[SchemeBase], *, replace: bool = False) -> str:
    """Enter ``model`` as the section of its method; returns the method's name.

    Raises:
        SpecError: ``model`` is no :class:`SchemeBase`, declares no single ``method`` literal,
            or its method has a section already (and ``replace`` is not set).

    """
    if not (isinstance(model, type) and issubclass(model, SchemeBase)):
        raise SpecError(f"scheme section {model!r} is not a SchemeBase subclass; derive the "
                        "method's spec model from tierwise.spec.schemes.SchemeBase")
    name = method_name(model)
    if name in _SECTIONS and _SECTIONS[name] is not model and not replace:
        raise SpecError(f"method {name!r} has a scheme section already "
                        f"({_SECTIONS[name].__name__}); pick another method name")
    _SECTIONS[name] = model
    return name


def unregister_section(name: str) -> None:
    """Remove the section of method ``name`` (nothing happens when it has none)."""
    _SECTIONS.pop(name, None)


def section_model(name: str) -> type[SchemeBase] | None:
    """The spec model of method ``name``'s scheme section, or None for an unknown method."""
    return _SECTIONS.get(name)


def known_methods() -> list[str]:
    """The names of every method with a scheme section, sorted."""
    return sorted(_SECTIONS)


def _error(kind: str, message: str, loc: tuple[str, ...], value: Any) -> ValidationError:
    detail = InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)
    return ValidationError.from_exception_data("SchemeSpec", [detail])


def _validate(value: Any) -> SchemeBase:
    known = _(", ").join(known_methods())
    if isinstance(value, SchemeBase):
        if _SECTIONS.get(value.method) is not type(value):
            raise _error("unknown_method", _("method {method} has no registered scheme section "
                                             "{section}; the known methods are {known}").format(
                method=repr(value.method), section=type(value).__name__, known=known),
                         ("method",), value.method)
        return value
    if not isinstance(value, dict):
        raise _error("scheme_type", _("a scheme must be a mapping with `method:` and the "
                                      "method's fields (methods: {known})").format(known=known),
                     (), value)
    if "method" not in value:
        raise _error("missing_method", _("a scheme needs `method:`, one of {known}").format(
            known=known),
                     ("method",), value)
    method = value["method"]
    if isinstance(method, str) and method not in _SECTIONS:
        _discover()
        known = _(", ").join(known_methods())
    model = _SECTIONS.get(method) if isinstance(method, str) else None
    if model is None:
        raise _error("unknown_method", _("unknown method {method}; the known methods are "
                                         "{known}. Check the spelling, or register the method "
                                         "(tierwise.methods.registry.register)").format(
            method=repr(method), known=known), ("method",), method)
    return model.model_validate(value)


def _dump(value: SchemeBase, info: core_schema.SerializationInfo) -> Any:
    return value.model_dump(mode=info.mode, by_alias=info.by_alias,
                            exclude_unset=info.exclude_unset,
                            exclude_defaults=info.exclude_defaults,
                            exclude_none=info.exclude_none, round_trip=info.round_trip)


class _Section:
    """Pydantic hooks of :data:`SchemeSpec`: validate and describe through the table."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        serialize: Callable[..., Any] = _dump
        return core_schema.no_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(serialize,
                                                                           info_arg=True))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        _discover()
        choices = [handler(_SECTIONS[name].__pydantic_core_schema__) for name in known_methods()]
        return {"oneOf": choices, "discriminator": {"propertyName": "method"}}


#: A scheme section, validated by the model its ``method:`` names in the table above.
SchemeSpec = Annotated[SchemeBase, _Section]

for _model in (RulesSchemeSpec, ScorecardSchemeSpec, RfmSchemeSpec, AbcSchemeSpec,
               ClusterSchemeSpec, ClvSchemeSpec, ModelSchemeSpec, RiskSchemeSpec,
               CreditSchemeSpec):
    register_section(_model)


__all__ = [
    "SchemeSpec",
    "discover_with",
    "known_methods",
    "method_name",
    "register_section",
    "section_model",
    "unregister_section",
]
