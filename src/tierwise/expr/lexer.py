"""Tokenizer of the expression language, and the shared wording of syntax errors.

Hand-written rather than regex-split so that every error can name the exact column and character,
and so that nothing but the tokens below can ever reach the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from tierwise.errors import ExprError
from tierwise.expr.ast import KEYWORDS
from tierwise.i18n import N_, _

# Digits are ASCII on purpose: ``\d`` would also accept Arabic-Indic or full-width digits.
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_NUMBER = re.compile(rf"(?:{_DIGITS}(?:\.{_DIGITS})?|\.{_DIGITS})(?:[eE][+-]?[0-9]+)?")
_OPERATORS = ("==", "!=", "<>", "<=", ">=", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", ",")
_CANONICAL = {"=": "==", "<>": "!="}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_MISTAKES = {
    "&": N_("write 'and' to join conditions"),
    "|": N_("write 'or' to join alternatives"),
    "!": N_("write '!=' for 'not equal', or 'not' before a condition"),
    "^": N_("there is no power operator; use multiplication"),
    "[": N_("lists are written in parentheses: 'x in (1, 2)'"),
}
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Token:
    """One token.

    Attributes:
        kind: ``num``, ``str``, ``name`` (plain identifier), ``qname`` (backtick-quoted name),
            ``kw`` (keyword, lower case in ``value``), ``op`` (operator or punctuation, canonical
            spelling in ``value``) or ``eof``.
        value: The decoded value: number, text, name, keyword or operator.
        pos: 0-based offset of the first character in the source.
        end: 0-based offset just past the token.
    """

    kind: str
    value: int | float | str
    pos: int
    end: int


def quote(text: str) -> str:
    """Quote ``text`` for an error message, picking the quote character it does not contain."""
    return f'"{text}"' if "'" in text and '"' not in text else f"'{text}'"


def where(text: str, pos: int) -> str:
    """Describe a 0-based offset as a 1-based column (with a line when the text spans lines)."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    if "\n" in text:
        return _("line {line}, column {column}").format(line=line, column=column)
    return _("column {column}").format(column=column)


def fail(text: str, pos: int, what: str, hint: str) -> NoReturn:
    """Raise the syntax error ``<what> at column <n> in '<text>'; <hint>``."""
    raise ExprError(_("{what} at {where} in {text}; {hint}").format(
        what=what, where=where(text, pos), text=quote(text), hint=hint))


def is_name_start(char: str) -> bool:
    """Whether ``char`` may start an unquoted name (Unicode letters included, as in Python)."""
    return char == "_" or char.isidentifier()


def is_name_char(char: str) -> bool:
    """Whether ``char`` may continue an unquoted name."""
    return ("_" + char).isidentifier()


def _is_digit(char: str) -> bool:
    return len(char) == 1 and "0" <= char <= "9"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token.

    Args:
        text: The expression source.

    Returns:
        The tokens in order.

    Raises:
        ExprError: On a character, number, string or quoted name that cannot be read.
    """
    if "\x00" in text:
        # DuckDB's SQL parser ends a statement at a NUL, even inside quotes: a NUL in a text
        # literal would make the generated SQL unreadable to it.
        fail(text, text.index("\x00"), "unexpected NUL character (U+0000)",
             "remove it; expressions cannot contain NUL characters")
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif _is_digit(char) or (char == "." and _is_digit(text[i + 1 : i + 2])):
            tokens.append(_number(text, i))
            i = tokens[-1].end
        elif char in "'\"":
            tokens.append(_string(text, i))
            i = tokens[-1].end
        elif char == "`":
            tokens.append(_quoted_name(text, i))
            i = tokens[-1].end
        elif is_name_start(char):
            end = i + 1
            while end < len(text) and is_name_char(text[end]):
                end += 1
            word = text[i:end]
            if word.lower() in KEYWORDS:
                tokens.append(Token("kw", word.lower(), i, end))
            else:
                tokens.append(Token("name", word, i, end))
            i = end
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                hint = _(_MISTAKES.get(
                    char,
                    N_("expressions use names, numbers, quoted text, + - * / %, == != < <= > >=, "
                       "and, or, not, and parentheses"),
                ))
                fail(text, i, _("unexpected character {char}").format(char=quote(char)), hint)
            tokens.append(Token("op", _CANONICAL.get(op, op), i, i + len(op)))
            i += len(op)
    tokens.append(Token("eof", "", len(text), len(text)))
    return tokens


def _number(text: str, start: int) -> Token:
    match = _NUMBER.match(text, start)
    # A number glued to letters, a second dot or a stray underscore (``1.2.3``, ``10_``, ``1e``)
    # is a typo; reading it as a number followed by a name would give a confusing error later.
    end = match.end() if match else start
    if match is None or (end < len(text) and (is_name_char(text[end]) or text[end] == ".")):
        stop = end
        while stop < len(text) and (is_name_char(text[stop]) or text[stop] in "."):
            stop += 1
        fail(
            text,
            start,
            _("malformed number {number}").format(number=quote(text[start:stop])),
            "write numbers like 10, 10_000, 1.5 or 1e3",
        )
    raw = match.group().replace("_", "")
    value: int | float
    if any(c in raw for c in ".eE"):
        value = float(raw)
        if value in (float("inf"), float("-inf")):
            fail(text, start, _("number {number} is too large").format(number=quote(match.group())),
                 _("use a smaller number"))
    else:
        value = int(raw)
        if value > _INT64_MAX:
            fail(
                text,
                start,
                _("number {number} is too large").format(number=quote(match.group())),
                "whole numbers must fit in 64 bits; write it as a decimal such as 1e20",
            )
    return Token("num", value, start, end)


def _string(text: str, start: int) -> Token:
    mark = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            escaped = _ESCAPES.get(text[i + 1 : i + 2])
            if escaped is None:
                fail(
                    text,
                    i,
                    _("unknown escape {escape}").format(escape=quote(text[i : i + 2])),
                    "inside quotes write \\\\ for a backslash, \\' or '' for a quote, \\n, \\t",
                )
            out.append(escaped)
            i += 2
        elif char == mark:
            # A doubled quote stands for the quote itself, as in SQL: 'it''s'.
            if text[i + 1 : i + 2] == mark:
                out.append(mark)
                i += 2
            else:
                return Token("str", "".join(out), start, i + 1)
        else:
            out.append(char)
            i += 1
    fail(text, start, _("unterminated text"),
         _("close the text with a matching {mark}").format(mark=mark))


def _quoted_name(text: str, start: int) -> Token:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        if text[i] == "`":
            if text[i + 1 : i + 2] == "`":
                out.append("`")
                i += 2
                continue
            if not out:
                fail(text, start, "empty quoted name", "write the name between the backticks")
            return Token("qname", "".join(out), start, i + 1)
        out.append(text[i])
        i += 1
    fail(text, start, "unterminated quoted name", "close the name with a backtick `")
