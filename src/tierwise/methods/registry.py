"""The registry of grading methods: ``method:`` names to :class:`~tierwise.methods.protocol.Method`.

The built-in methods are registered by :mod:`tierwise.methods` (one line each). A method from
elsewhere is registered with :func:`register` (its scheme section then parses everywhere a
scheme does: the project loader, the editor, stored versions, the JSON schema), or published by
a package as an entry point of the group ``tierwise.methods`` naming a :class:`Method` subclass
or instance, loaded when :mod:`tierwise.methods` is imported.
"""

from __future__ import annotations

import warnings
from typing import Any

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.methods.protocol import Method
from tierwise.spec.schemes import SchemeBase
from tierwise.spec.sections import (
    discover_with,
    known_methods,
    method_name,
    register_section,
    unregister_section,
)

#: The entry-point group packages publish methods in.
ENTRY_POINTS = "tierwise.methods"

_METHODS: dict[str, Method[Any]] = {}


def register(method: Method[Any], *, replace: bool = False) -> Method[Any]:
    """Register ``method`` under its ``name``, and its scheme section with the spec layer.

    Raises:
        SpecError: ``method.name`` differs from the ``method`` literal of ``method.spec``, or
            another method has the name already (and ``replace`` is not set).

    """
    declared = method_name(method.spec)
    if declared != method.name:
        raise SpecError(_("method {name!r}: its scheme section {spec} declares method "
                          "{declared!r}; make them the same").format(name=method.name,
                            spec=method.spec.__name__, declared=declared))
    if method.name in _METHODS and not replace:
        raise SpecError(_("method {name!r} is registered already ({cls}); pick another "
                          "name or pass replace=True").format(name=method.name,
                            cls=type(_METHODS[method.name]).__name__))
    register_section(method.spec, replace=True)
    _METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove method ``name`` and its scheme section (nothing happens for an unknown name)."""
    _METHODS.pop(name, None)
    unregister_section(name)


def names() -> list[str]:
    """The registered methods' names, sorted."""
    return sorted(_METHODS)


def get(name: str) -> Method[Any]:
    """The method registered as ``name``.

    Raises:
        SpecError: No method has that name; the message lists the known ones.

    """
    found = _METHODS.get(name)
    if found is None:
        load_entry_points()
        found = _METHODS.get(name)
    if found is None:
        raise SpecError(_("unknown method {name!r}; the known methods are {known}. Check the "
                          "spelling, or register the method "
                          "(tierwise.methods.registry.register)").format(name=name,
                            known=', '.join(names())))
    return found


def method_of(scheme: SchemeBase) -> Method[Any]:
    """The method that grades ``scheme`` (by its ``method:``).

    Raises:
        SpecError: The scheme's method is not registered (e.g. unregistered since it parsed).

    """
    return get(scheme.method)


def load_entry_points() -> list[str]:
    """Register the methods packages publish in the ``tierwise.methods`` entry-point group.

    An entry point, named as its method, names a :class:`Method` subclass (instantiated
    without arguments) or an instance. Names registered already are skipped (a method
    registered in the program wins). One that fails to load or register is skipped with a
    warning naming it, so a broken plugin never stops tierwise. This runs when a scheme names
    a method not registered yet (scanning the installed packages takes a while).

    Returns:
        The names of the methods registered.

    """
    from importlib.metadata import entry_points

    added = []
    for point in entry_points(group=ENTRY_POINTS):
        if point.name in _METHODS:
            continue
        try:
            loaded = point.load()
            method = loaded() if isinstance(loaded, type) else loaded
            if not isinstance(method, Method):
                raise SpecError(f"{point.value} is not a tierwise.methods.protocol.Method")
            register(method)
        except Exception as exc:  # a plugin's own failure: report it, keep the others
            warnings.warn(_("tierwise method plugin {name!r} ({value}) was not loaded: {exc}; "
                            "fix or uninstall the package that publishes it").format(
                                name=point.name,
                              value=point.value, exc=exc),
                          stacklevel=2)
            continue
        added.append(method.name)
    return added


__all__ = [
    "ENTRY_POINTS",
    "get",
    "known_methods",
    "load_entry_points",
    "method_of",
    "names",
    "register",
    "unregister",
]

discover_with(load_entry_points)
