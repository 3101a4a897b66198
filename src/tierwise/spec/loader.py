"""Load ``tierwise.yaml`` into a :class:`ProjectSpec`, reporting every problem with file:line.

Each source, indicator and scheme is validated on its own, so one broken scheme does not hide the
mistakes in the next; then the cross-references (expressions, indicator names, tier keys) are
checked on everything that parsed. All problems are raised together in one :class:`SpecError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from tierwise.errors import Problem, SpecError
from tierwise.i18n import _, normalize
from tierwise.spec.actions import ActionSpec
from tierwise.spec.kpis import KpiSpec
from tierwise.spec.limits import short_path, value_shape_problem, yaml_shape_problem
from tierwise.spec.models import (
    EngineSpec,
    IndicatorSpec,
    ProjectSpec,
    SchemeSpec,
    SourceSpec,
)
from tierwise.spec.names import name_problem, scheme_name_problem
from tierwise.spec.validation_text import message_of

PROJECT_FILE = "tierwise.yaml"
_SECTIONS: dict[str, TypeAdapter[Any]] = {
    "sources": TypeAdapter(SourceSpec),
    "indicators": TypeAdapter(IndicatorSpec),
    "schemes": TypeAdapter(SchemeSpec),
    "actions": TypeAdapter(ActionSpec),
    "kpis": TypeAdapter(KpiSpec),
}
_INDICATOR_TAGS = {"aggregate", "attribute", "derived"}
_TOP_KEYS = {"name", "description", "language", "engine", "as_of", "output", "incremental",
             "security", "store", "reporting", "sources", "indicators", "schemes", "actions", "smtp", "kpis",
             "linkage"}


@dataclass(frozen=True)
class Located:
    """A parsed YAML document with the means to turn a field path into a line number."""

    file: str
    doc: Any

    def line(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node of ``path`` that exists in the document."""
        node, line = self.doc, None
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line

    def where(self, path: Sequence[str | int]) -> str:
        """``file:line`` for a field path."""
        line = self.line(path)
        return f"{self.file}:{line}" if line else self.file


def dotted(path: Sequence[str | int]) -> str:
    """Render a field path as ``schemes.value.tiers[0].when``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(path: Path) -> Located:
    """Parse a YAML file keeping line numbers; syntax errors become a :class:`SpecError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(
            Problem(
                _("no project file at {path}; run `tierwise init` to write a starter project"
                  ).format(path=path),
                where=str(path),
            )
        ) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            Problem(_("not UTF-8 text ({reason}); save the file as UTF-8").format(reason=exc.reason),
                    where=str(path))
        ) from None
    try:
        # Before composing: the composer recurses once per level of nesting.
        shape = yaml_shape_problem(text)
        if shape is not None:
            raise SpecError(shape.problem(str(path)))
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SpecError(
            Problem(_("YAML syntax error: {problem}; fix the line shown").format(problem=exc.problem),
                    where=f"{path}{line}")
        ) from None
    return Located(str(path), doc)


def _pydantic_problems(
    err: ValidationError,
    located: Located,
    prefix: tuple[str | int, ...],
) -> list[Problem]:
    problems = []
    for item in err.errors():
        # Indicators are a tagged union, whose errors carry the tag after the name; the
        # document has no such step. (Schemes validate through their section table: no tag.)
        path = prefix + tuple(item["loc"])
        if path[:1] == ("indicators",) and len(path) > 2 and path[2] in _INDICATOR_TAGS:
            path = path[:2] + path[3:]
        loc = path[len(prefix):]
        msg = message_of(item, loc[-1] if loc else None)
        problems.append(Problem(msg, where=located.where(path), path=dotted(path)))
    return problems


def parse_project(located: Located) -> ProjectSpec:
    """Validate a parsed document into a :class:`ProjectSpec`, collecting every problem.

    Raises:
        SpecError: listing every problem, each with file:line (where known) and field path; a
            document nested deeper than :data:`~tierwise.spec.limits.MAX_DEPTH` levels is
            refused before anything walks it.

    """
    doc = located.doc
    shape = value_shape_problem(doc)
    if shape is not None:
        raise SpecError(Problem(shape.message, where=located.where(shape.path),
                                path=short_path(shape.path)))
    if not isinstance(doc, dict):
        raise SpecError(
            Problem(
                _("the project file must be a mapping with `name:` and `sources:`"),
                where=located.file
            )
        )
    problems: list[Problem] = []
    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(
                Problem(
                    _("unknown top-level field {field}; expected one of {fields}").format(
                        field=repr(key), fields=_(", ").join(sorted(_TOP_KEYS))),
                    where=located.where((key,)),
                    path=str(key),
                )
            )
    parsed: dict[str, Any] = {}
    for key in ("name", "description", "language", "as_of", "output", "incremental", "engine",
                "security", "store", "reporting", "smtp", "linkage"):
        if key in doc:
            parsed[key] = _plain(doc[key])
    for section, adapter in _SECTIONS.items():
        items = doc.get(section) or {}
        if not isinstance(items, dict):
            problems.append(
                Problem(
                    _("`{section}` must be a mapping of name to definition").format(
                        section=section),
                    where=located.where((section,)),
                    path=section,
                )
            )
            continue
        good = {}
        for name, body in items.items():
            wrong = (scheme_name_problem(str(name)) if section == "schemes"
                     else name_problem(str(name), section) if section in ("actions", "kpis")
                     else None)
            if wrong is not None:
                problems.append(Problem(wrong, where=located.where((section, name)), path=section))
            plain, wrong_files = _with_files(section, _plain(body), Path(located.file).parent)
            problems.extend(Problem(message, where=located.where((section, name, *at)),
                                    path=dotted((section, name, *at)))
                            for at, message in wrong_files)
            try:
                good[str(name)] = adapter.validate_python(plain)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, located, (section, name)))
        parsed[section] = good
    try:
        project = ProjectSpec.model_validate(parsed)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, located, ()))
        raise SpecError(problems) from None
    from tierwise.spec.validate import semantic_problems  # after parsing: needs the models

    problems.extend(semantic_problems(project, located))
    if problems:
        raise SpecError(problems)
    return project


def _with_files(section: str, body: Any, folder: Path) -> tuple[Any, list[
        tuple[tuple[str | int, ...], str]]]:
    """An item of ``section`` (as parsed YAML) with the files it names read in.

    A risk scheme's factor tables and calendar, an action's follow-up calendar: read when the
    project loads, so each stored version keeps what it graded with. Returns the body and the
    problems found (field path under the item, message).
    """
    if not isinstance(body, dict):
        return body, []
    if section == "schemes" and body.get("method") == "risk":
        from tierwise.spec.risk import inline_files

        return inline_files(body, folder)
    follow = body.get("follow_up")
    if section == "actions" and isinstance(follow, dict) and "calendar" in follow:
        from tierwise.spec.calendar import inline_calendar

        calendar, wrong = inline_calendar(follow["calendar"], folder)
        at: tuple[str | int, ...] = ("follow_up", "calendar", "file")
        problems = [] if wrong is None else [(at, wrong)]
        return {**body, "follow_up": {**follow, "calendar": calendar}}, problems
    return body, []


def _plain(node: Any) -> Any:
    """Ruamel's commented containers to plain dicts and lists (pydantic wants plain types)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def declared_language(path: str | Path) -> str | None:
    """The supported ``language:`` a project file declares, read even when the file is invalid.

    Its errors are then reported in the language its readers chose; None when the file cannot
    be read or declares none.
    """
    path = Path(path)
    file = path / PROJECT_FILE if path.is_dir() else path
    try:
        doc = read_yaml(file).doc
    except SpecError:
        return None
    value = doc.get("language") if isinstance(doc, dict) else None
    return normalize(value) if isinstance(value, str) else None


def load_project(path: str | Path) -> tuple[ProjectSpec, Path]:
    """Load a project from a folder holding ``tierwise.yaml`` or from the file itself.

    Returns:
        The validated spec and the project folder (relative paths resolve against it).

    Raises:
        SpecError: listing every problem in the file, each with file:line and field path.

    """
    path = Path(path)
    file = path / PROJECT_FILE if path.is_dir() else path
    return parse_project(read_yaml(file)), file.parent


__all__ = [
    "PROJECT_FILE",
    "EngineSpec",
    "Located",
    "dotted",
    "load_project",
    "parse_project",
    "read_yaml",
]
