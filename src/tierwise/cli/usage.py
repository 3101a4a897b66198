"""Usage errors (an unknown option, a missing argument, a wrong value) in the reader's language.

Typer words them in English where it raises them, so a reader of Chinese who mistyped an option
read "No such option" under a Chinese command line. :class:`LocalizedGroup` catches them before
Typer prints them and words them again: from the exception's own facts where it carries them
(the option, the parameter, the suggestions), else from the English forms Typer uses. A message
of any other form is shown as Typer wrote it. The layout (usage line, help hint, error panel)
and the exit code 2 stay Typer's.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

# Typer vendors click and raises its own classes; only BadParameter is exported under typer.
from typer._click.core import Context
from typer._click.exceptions import (
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperGroup

from tierwise import i18n
from tierwise.cli.common import err, settings
from tierwise.errors import TierwiseError
from tierwise.i18n import _

__all__ = ["LocalizedGroup", "message_of", "show"]


class LocalizedGroup(TyperGroup):
    """The root command group: Typer's, with its usage errors in the reader's language.

    A usage error raised while the command line is read (by this group or a command below it)
    or while a command runs is printed here and ends the command as ``typer.Exit(2)``: Typer
    still runs the command line in its own standalone mode, so every other exit (success,
    ``Exit(n)``, aborts, broken pipes, other click errors) stays exactly Typer's.
    """

    _args: Sequence[str] | None = None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the command line in the default language (``--lang`` then changes it)."""
        # As the root callback does, which a mistake in the command's name never reaches.
        settings.lang_given = False
        i18n.set_language(i18n.DEFAULT)
        self._args = args
        return super().main(args, prog_name, complete_var, standalone_mode,
                            windows_expand_args, **extra)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Context | None = None, **extra: Any) -> Context:
        """Read the root's options; a usage error in them is said in the reader's language."""
        with self._said():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        """Run the command named; a usage error below the root is said likewise."""
        with self._said():
            return super().invoke(ctx)

    @contextlib.contextmanager
    def _said(self) -> Iterator[None]:
        try:
            yield
        except NoArgsIsHelpError:  # the help, printed already: Typer exits 2
            raise
        except UsageError as exc:
            _speak_from(self._args)
            show(exc)
            raise typer.Exit(exc.exit_code) from None


def show(exc: UsageError) -> None:
    """Print ``exc`` as Typer lays it out, in the current language."""
    ctx = exc.ctx
    if ctx is not None:
        usage = ctx.get_usage()
        if usage.startswith("Usage: "):
            usage = _("Usage: {usage}").format(usage=usage.removeprefix("Usage: "))
        err.print(Text(usage), style="bold", soft_wrap=True)
        if ctx.command.get_help_option(ctx) is not None:
            err.print(_("Try '{command} {option}' for help.").format(
                command=ctx.command_path, option=ctx.help_option_names[0]),
                style="dim", soft_wrap=True, highlight=False, markup=False)
    err.print(Panel(Text(message_of(exc)), border_style="red", title=escape(_("Error")),
                    title_align="left"))


def message_of(exc: UsageError) -> str:
    """What went wrong, in the current language."""
    if isinstance(exc, NoSuchOption):
        return _unknown_option(exc)
    if isinstance(exc, MissingParameter):
        return _missing(exc)
    if isinstance(exc, BadParameter):
        return _bad_value(exc)
    return _worded(exc.message, _USAGE) or _worded(exc.message, _VALUES) or exc.format_message()


def _unknown_option(exc: NoSuchOption) -> str:
    if exc.message != f"No such option: {exc.option_name}":
        return exc.format_message()
    if not exc.possibilities:
        return _("No such option: {option}").format(option=exc.option_name)
    return _("No such option: {option} (possible options: {options})").format(
        option=exc.option_name, options=_(", ").join(sorted(exc.possibilities)))


def _missing(exc: MissingParameter) -> str:
    if exc.message or exc.param is None:  # a message of its own: as Typer says it
        return exc.format_message()
    hint = _hint(exc)
    kind = exc.param_type or exc.param.param_type_name
    extra = getattr(exc.param, "get_missing_message", lambda ctx: "")(exc.ctx) or ""
    if extra.startswith("Choose from:"):
        choices = _(", ").join(c.strip() for c in extra.removeprefix("Choose from:").split(",")
                               if c.strip())
        return _("Missing {name}; choose from: {choices}").format(name=hint, choices=choices)
    if kind == "argument":
        return _("Missing argument {name}.").format(name=hint)
    if kind == "option":
        return _("Missing option {name}.").format(name=hint)
    return _("Missing parameter {name}.").format(name=hint)


def _bad_value(exc: BadParameter) -> str:
    said = exc.message.removeprefix("Value error, ")  # how pydantic passes on a ValueError
    detail = _checked(exc.__cause__) or _worded(said, _VALUES) or said
    hint = _hint(exc)
    if not hint:
        return _("Invalid value: {detail}").format(detail=detail)
    return _("Invalid value for {name}: {detail}").format(name=hint, detail=detail)


def _checked(cause: BaseException | None) -> str | None:
    """Why a value failed the type check Typer runs through pydantic, from its error's type."""
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    try:
        first: dict[str, Any] = errors()[0]
    except (IndexError, TypeError):
        return None
    value, kind, limits = repr(first.get("input")), str(first.get("type")), first.get("ctx") or {}
    if kind.startswith(("int_", "float_", "bool_")):
        label = {"int": "integer", "float": "float", "bool": "boolean"}[kind.split("_")[0]]
        return _("{value} is not {kind}.").format(value=value, kind=_kind(label))
    bounds = {"greater_than_equal": ("ge", _("{value} is less than {limit}.")),
              "greater_than": ("gt", _("{value} must be more than {limit}.")),
              "less_than_equal": ("le", _("{value} is more than {limit}.")),
              "less_than": ("lt", _("{value} must be less than {limit}."))}
    if kind in bounds and bounds[kind][0] in limits:
        key, text = bounds[kind]
        return text.format(value=value, limit=limits[key])
    return None


def _hint(exc: BadParameter) -> str:
    hint: Sequence[str] | str | None = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint()
    if hint is None:
        return ""
    return hint if isinstance(hint, str) else " / ".join(hint)


def _worded(message: str, forms: list[tuple[re.Pattern[str], Callable[..., str]]]
            ) -> str | None:
    """``message`` worded again by the first English form it matches; None when none does."""
    for form, say in forms:
        if (found := form.fullmatch(message)) is not None:
            return say(*found.groups())
    return None


def _kind(label: str) -> str:
    words = {"integer": _("an integer"), "float": _("a number"), "boolean": _("true or false"),
             "int": _("an integer")}
    return words.get(label, label)


def _path(label: str) -> str:
    return {"file": _("file"), "dir": _("folder"), "directory": _("folder"),
            "path": _("path")}.get(label.lower(), label)


def _no_command(name: str, close: str | None) -> str:
    if not close:
        return _("No such command {name}.").format(name=repr(name))
    names = re.findall(r"'([^']*)'", close) or [close]
    return _("No such command {name}. Did you mean {names}?").format(
        name=repr(name), names=_(", ").join(repr(n) for n in names))


#: The English forms of Typer's other usage errors, and how to say them.
_USAGE: list[tuple[re.Pattern[str], Callable[..., str]]] = [
    (re.compile(r"No such command '(.*?)'\.(?: Did you mean (.*)\?)?", re.DOTALL),
     lambda name, close: _no_command(name, close)),
    (re.compile(r"Missing command\."), lambda: _("Missing command.")),
    (re.compile(r"Got unexpected extra argument\(s\) \((.*)\)", re.DOTALL),
     lambda extra: _("Got unexpected extra arguments ({arguments}).").format(arguments=extra)),
    (re.compile(r"Option '(.*)' requires an argument\."),
     lambda name: _("Option {name} requires a value.").format(name=repr(name))),
    (re.compile(r"Option '(.*)' requires (\d+) arguments\."),
     lambda name, n: _("Option {name} requires {count} values.").format(name=repr(name),
                                                                        count=n)),
    (re.compile(r"Option '(.*)' does not take a value\."),
     lambda name: _("Option {name} does not take a value.").format(name=repr(name))),
]

#: The English forms of the reasons Typer gives for a value of the wrong kind.
_VALUES: list[tuple[re.Pattern[str], Callable[..., str]]] = [
    (re.compile(r"(.*) is not one of (.*)\.", re.DOTALL),
     lambda value, choices: _("{value} is not one of {choices}.").format(value=value,
                                                                          choices=choices)),
    (re.compile(r"(?:Value )?(.*) is not a valid (\w+)\.", re.DOTALL),
     lambda value, label: _("{value} is not {kind}.").format(value=value, kind=_kind(label))),
    (re.compile(r"(.*) does not match the formats? (.*)\.", re.DOTALL),
     lambda value, formats: _("{value} does not match the format {formats}.").format(
         value=value, formats=formats)),
    (re.compile(r"(file|dir|directory|path) (.*) does not exist\.", re.DOTALL | re.IGNORECASE),
     lambda label, path: _("The {kind} {path} does not exist.").format(kind=_path(label),
                                                                       path=path)),
]


def _speak_from(args: Sequence[str] | None) -> None:
    """Speak the language asked for where Typer stopped before it was read.

    The root's ``--lang`` and ``TIERWISE_LANG`` are spoken before a command's own options are
    read, but not when the command's name is wrong; a command's own ``--lang`` typed after a
    bad option is never read. Both are found here. An unknown language leaves English.
    """
    if settings.lang_given:
        return
    words = list(sys.argv[1:] if args is None else args)
    words = words[:words.index("--")] if "--" in words else words  # then only arguments
    wanted = os.environ.get("TIERWISE_LANG")
    for i, word in enumerate(words):
        if word.startswith("--lang="):
            wanted = word.partition("=")[2]
        elif word == "--lang" and i + 1 < len(words):
            wanted = words[i + 1]
    if wanted:
        with contextlib.suppress(TierwiseError):
            i18n.set_language(wanted)
