"""Code-size limits of src/tierwise (issue 12): modules, function lengths, parameter counts.

A module holds at most 600 lines, a function at most 80 lines (from its ``def`` line, decorators
excluded, to its last line) and at most 8 parameters (``self`` / ``cls`` not counted; positional,
keyword-only, ``*args`` and ``**kwargs`` each count one). ``COMMAND_LINE`` names the one
exemption, a command whose parameters are its command-line options; it must still exceed the
limit, so the exemption cannot outlive its reason or hide another violation.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tierwise"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 8
#: A released migration must not change (a database upgraded by it would differ from a fresh
#: one), so the migrations' function lengths are history, not code to refactor. Their module
#: sizes and parameter counts are still checked: a new migration can keep to those.
FROZEN_LENGTHS = "store/migrations/versions/"

MODULE, LINES, PARAMETERS = "module", "lines", "parameters"
LIMITS = {MODULE: MAX_MODULE_LINES, LINES: MAX_FUNCTION_LINES, PARAMETERS: MAX_PARAMETERS}

#: A Typer command declares one parameter per command-line argument or option: its parameter list
#: is the command's public interface, not code to split. ``tierwise run`` takes its schemes and
#: nine options and hands them to ``run_schemes`` as one ``RunRequest``.
COMMAND_LINE = {
    ("cli/run_command.py", "run", PARAMETERS),
}


@dataclass(frozen=True)
class Violation:
    """One limit broken at one place."""

    path: str
    line: int
    name: str
    kind: str
    figure: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.path, self.name, self.kind

    def __str__(self) -> str:
        what = "module" if self.kind == MODULE else f"function {self.name}"
        unit = "parameters" if self.kind == PARAMETERS else "lines"
        return (f"src/tierwise/{self.path}:{self.line} {what}: {self.figure} {unit} "
                f"(limit {LIMITS[self.kind]})")


def parameters(args: ast.arguments) -> int:
    """Parameters of a function, ``self`` / ``cls`` not counted."""
    count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
    count += (args.vararg is not None) + (args.kwarg is not None)
    first = [*args.posonlyargs, *args.args][:1]
    return count - (1 if first and first[0].arg in ("self", "cls") else 0)


def measure(path: str, text: str) -> list[Violation]:
    """The limits the module ``text`` (at ``path`` under src/tierwise) breaks."""
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(Violation(path, 1, "<module>", MODULE, lines))
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1
        if length > MAX_FUNCTION_LINES and not path.startswith(FROZEN_LENGTHS):
            found.append(Violation(path, node.lineno, node.name, LINES, length))
        count = parameters(node.args)
        if count > MAX_PARAMETERS:
            found.append(Violation(path, node.lineno, node.name, PARAMETERS, count))
    return found


def violations() -> list[Violation]:
    """Every limit broken in src/tierwise, in file order."""
    found = []
    for file in sorted(SRC.rglob("*.py")):
        found += measure(file.relative_to(SRC).as_posix(), file.read_text(encoding="utf-8"))
    return found


def test_no_module_or_function_over_the_limits() -> None:
    new = [str(v) for v in violations() if v.key not in COMMAND_LINE]
    assert new == [], "over the size limits (split the module or function):\n" + "\n".join(new)


def test_every_exemption_still_applies() -> None:
    seen = {v.key for v in violations()}
    fixed = sorted(COMMAND_LINE - seen)
    assert fixed == [], f"within the limits now; remove these from COMMAND_LINE: {fixed}"


def _function(name: str, *, params: str, body_lines: int) -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f"def {name}({params}):\n{body}"


def test_measure_counts_lines_and_parameters_as_the_limits_say() -> None:
    text = "\n".join([
        _function("long", params="", body_lines=80),  # def line + 80 = 81 lines
        _function("fits", params="", body_lines=79),  # 80 lines
        _function("wide", params="a, b, c, d, e, /, f, *g, h, **i", body_lines=1),  # 9
        "class C:",
        textwrap.indent(_function("method", params="self, a, b, c, d, e, f, g, h", body_lines=1),
                        "    "),  # 8 without self
        textwrap.indent(_function("other", params="cls, a, b, c, d, e, f, g, h, i", body_lines=1),
                        "    "),  # 9 without cls
    ])
    found = {(v.name, v.kind): v.figure for v in measure("x.py", text)}
    assert found == {("long", LINES): 81, ("wide", PARAMETERS): 9, ("other", PARAMETERS): 9}
    assert measure("big.py", "x = 1\n" * 601)[0].key == ("big.py", "<module>", MODULE)
    assert measure("ok.py", "x = 1\n" * 600) == []
    frozen = measure(FROZEN_LENGTHS + "0001.py", _function("upgrade", params="", body_lines=99))
    assert frozen == []
