"""Rules for names a caller gives: scheme names, and the tables of database sources.

The scheme-name rule is the same in ``tierwise.yaml`` and in every service that takes one.

A scheme name becomes a folder under the output folder (``output/<scheme>/runs/...``), an Excel
sheet title, part of URLs and of messages and CLI hints. So it is a short identifier: no dots or
slashes (``..`` would leave the output folder), no control characters (NUL ends a C string), and
no invisible or direction-changing characters (U+202E, right-to-left override, makes a name read
differently from what it is).
"""

from __future__ import annotations

import re
import unicodedata

from tierwise.errors import Problem, SpecError
from tierwise.i18n import N_, _

#: The most characters a scheme name may have.
MAX_SCHEME_NAME = 64
_RULE = N_("a scheme name has 1 to {most} characters: letters (a-z, A-Z), Chinese characters, "
           "digits, _ or -, and starts with a letter, a Chinese character or _")
#: The rule for scheme names, in English (messages use it in the current language).
SCHEME_NAME_RULE = _RULE.format(most=MAX_SCHEME_NAME)
_SCHEME_NAME = re.compile(
    rf"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]{{0,{MAX_SCHEME_NAME - 1}}}"
)


def scheme_name_problem(name: object) -> str | None:
    r"""What is wrong with ``name`` as a scheme name, or None when it follows the rule.

    The message states the rule and shows the name as ``repr``, so invisible characters show
    (``'\u202evalue'``, ``'a\x00'``).
    """
    if isinstance(name, str) and _SCHEME_NAME.fullmatch(name):
        return None
    shown = repr(name) if isinstance(name, str) else f"{name!r} ({type(name).__name__})"
    if isinstance(name, str) and len(name) > 80:
        shown = _("{start}... ({n} characters)").format(start=repr(name[:60]), n=len(name))
    return _("scheme name {name} is not allowed; {rule}").format(name=shown,
                                                                 rule=_(_RULE).format(most=MAX_SCHEME_NAME))


def check_scheme_name(name: object, *, where: str = "", path: str = "") -> str:
    """Return ``name`` when it is a valid scheme name, else raise.

    Args:
        name: the name given by the caller (a YAML key, a URL segment, a CLI argument).
        where: where it came from, for the message (e.g. ``tierwise.yaml:12``).
        path: its field path, if any.

    Raises:
        SpecError: stating the rule and the name seen (as ``repr``).

    """
    problem = scheme_name_problem(name)
    if problem is not None:
        raise SpecError(Problem(problem, where=where, path=path))
    return str(name)


# ------------------------------------------------------------------------------------ table names

_QUOTES = "\"'`"


def table_name_problem(table: str) -> str | None:
    """What is wrong with a source's ``table:`` (``name`` or ``schema.name``), or None.

    tierwise quotes each part itself, so a part may hold blanks, hyphens or keywords; it may not
    hold quotes (a name written pre-quoted, or an attempt to leave the quotes), control or
    invisible characters, or blanks at its ends, and there is at most one dot.
    """
    fix = _("write the table as `name` or `schema.name`, without quotes (tierwise quotes it), "
            "or read it with `query:`")
    parts = table.split(".")
    if len(parts) > 2:
        return _("table {table} has {n} dots; {fix}").format(table=repr(table), n=len(parts) - 1,
                                                             fix=fix)
    for i, char in enumerate(table):
        if char in _QUOTES:
            return _("table {table} holds the quote {char} at position {pos}; {fix}").format(
                table=repr(table), char=repr(char), pos=i + 1, fix=fix)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return _("table {table} holds the control or invisible character {code} at "
                     "position {pos}; {fix}").format(table=repr(table), code=f"U+{ord(char):04X}",
                                                    pos=i + 1, fix=fix)
    for part in parts:
        if not part or part != part.strip():
            if not part.strip():
                return _("table {table} has an empty part; {fix}").format(table=repr(table), fix=fix)
            return _("table {table} has blanks at the ends of a part; {fix}").format(
                table=repr(table), fix=fix)
    return None


def table_parts(table: str) -> tuple[str | None, str]:
    """``(schema, name)`` of a ``table:`` that passed :func:`table_name_problem`."""
    schema, _dot, name = table.rpartition(".")
    return (schema or None), name


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")


def name_problem(name: str, section: str) -> str | None:
    """What is wrong with ``name`` as the name of an action or a KPI, or None.

    The name is part of file names (an action's drops) and ledger keys: ASCII letters, digits,
    ``_`` and ``-``, starting with a letter or ``_``, at most 63 characters.
    """
    if _NAME.fullmatch(name):
        return None
    if section == "kpis":
        return _("KPI name {name} is not allowed; use 1 to 63 ASCII letters, digits, _ and -, "
                 "starting with a letter or _ (e.g. repurchase)").format(name=repr(name[:80]))
    return _("action name {name} is not allowed; use 1 to 63 ASCII letters, digits, _ and -, "
             "starting with a letter or _ (e.g. gold_coupon)").format(name=repr(name[:80]))
