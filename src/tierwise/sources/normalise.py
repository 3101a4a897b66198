"""Normal forms of the values record linkage compares: names, phones, emails, addresses, ids.

Two systems write the same customer differently: full-width digits and letters (``１３８``,
``Ｚｈａｎｇ``), Traditional or Simplified characters (``張偉`` / ``张伟``), a name in pinyin
(``Zhang Wei``, ``WEI Zhang``, ``zhangwei``), a phone with or without ``+86`` / ``0086`` and
separators, an email in capitals. Each function here maps those spellings to one form, so a
comparison sees what differs in substance (a typo, another person) and not in notation.

The libraries behind them are made for the job: Unicode NFKC (full-width to half-width),
OpenCC (Traditional to Simplified), pypinyin (characters to pinyin) and phonenumbers (Google's
libphonenumber: country codes, trunk prefixes, number validity). They come with the
``[linkage]`` extra.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from tierwise.errors import SpecError
from tierwise.i18n import _

_SPACES = re.compile(r"\s+")
# Punctuation and symbols between name parts: ·・.,-_'/ and the like (after NFKC).
_NAME_MARKS = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _need(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise SpecError(_(
            "record linkage needs the {module} package; install it with `pip install "
            "'tierwise[linkage]'`").format(module=module)) from None


@functools.cache
def _simplified() -> Callable[[str], str]:
    opencc = _need("opencc")
    return opencc.OpenCC("t2s").convert  # type: ignore[no-any-return]


def text(value: str | None) -> str | None:
    """NFKC (full-width to half-width), lower case, single spaces, trimmed; None when empty."""
    if value is None:
        return None
    out = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()
    return out or None


def chinese(value: str | None) -> str | None:
    """:func:`text` with Traditional characters made Simplified (臺北 -> 台北)."""
    out = text(value)
    if out is None or not _HAN.search(out):
        return out
    return _simplified()(out)


def name(value: str | None) -> str | None:
    """A person's or company's name: Simplified, lower case, without spaces or marks.

    ``張 偉`` -> ``张伟``; ``Zhang-Wei`` -> ``zhangwei``; ``Wei ZHANG`` -> ``weizhang`` (the
    order is kept here; :func:`name_keys` gives the order-free forms).
    """
    out = chinese(value)
    if out is None:
        return None
    return _NAME_MARKS.sub("", out) or None


# Two-character surnames, so that the given name is what follows them (欧阳娜娜: 欧阳 + 娜娜).
_COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙",
    "宇文", "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "申屠", "太史", "闻人", "万俟",
    "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "钟离", "赫连", "左丘"))


def _reading(chars: str, *, heteronym: bool) -> list[str]:
    """The pinyin of ``chars`` joined (every reading when ``heteronym`` and one character)."""
    pypinyin = _need("pypinyin")
    if heteronym and len(chars) == 1:
        return list(dict.fromkeys(pypinyin.pinyin(chars, style=pypinyin.Style.NORMAL,
                                                  heteronym=True)[0]))
    return ["".join(pypinyin.lazy_pinyin(chars, style=pypinyin.Style.NORMAL))]


def _parts(value: str) -> tuple[list[str], list[str]]:
    """A name as (the readings of its first part, the rest's parts).

    Han characters: the surname (one character, or two of a compound surname; every reading
    of a one-character surname, since 曾 is zeng or ceng and 单 shan or dan) and the given
    name as one part. Latin letters: the words as written.
    """
    if _HAN.search(value):
        chars = _NAME_MARKS.sub("", value)
        cut = 2 if chars[:2] in _COMPOUND_SURNAMES else 1
        rest = chars[cut:]
        return _reading(chars[:cut], heteronym=True), ([_reading(rest, heteronym=False)[0]]
                                                       if rest else [])
    words = [w for w in _NAME_MARKS.split(value) if w]
    return (words[:1], words[1:]) if words else ([], [])


def name_keys(value: str | None) -> list[str]:
    """Spellings of a name that a match on any one of counts as the same name.

    Han names in pinyin, surname first and last (``张伟``, ``張偉`` -> ``zhangwei``,
    ``weizhang``; ``曾伟`` also ``cengwei``); Latin names as written, and with the first or
    the last word moved to the other end (``Wei Zhang`` -> ``weizhang``, ``zhangwei``), so
    ``Zhang Wei``, ``WEI Zhang`` and ``zhangwei`` all share a key with ``张伟``.
    """
    out = chinese(value)
    if out is None:
        return []
    firsts, rest = _parts(out)
    keys: set[str] = set()
    for first in firsts:
        words = [first, *rest]
        keys.update(("".join(words), "".join(words[1:] + words[:1]),
                     "".join(words[-1:] + words[:-1])))
    return sorted(k for k in keys if k)


def pinyin(value: str | None) -> str | None:
    """The name in pinyin, in the order written, no spaces (``張偉`` -> ``zhangwei``).

    The form a spelling distance is measured on.
    """
    out = chinese(value)
    if out is None:
        return None
    firsts, rest = _parts(out)
    return "".join([*firsts[:1], *rest]) or None


def phone(value: str | None, region: str = "CN") -> str | None:
    """A phone number in E.164 (``+8613800138000``), from any notation of it.

    ``+86 138-0013-8000``, ``0086 13800138000``, ``１３８００１３８０００`` and ``(010) 6552 9988``
    (a Beijing number, region ``CN``) are read by phonenumbers; text it cannot read as a number
    keeps its digits only, so two equal odd numbers still match.
    """
    if value is None:
        return None
    raw = unicodedata.normalize("NFKC", value).strip()
    if not raw:
        return None
    phonenumbers = _need("phonenumbers")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", raw)
        return digits or None
    # Unassigned ranges (or a typo) still get one form, so two notations of them agree.
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def email(value: str | None) -> str | None:
    """An email address: NFKC, trimmed, lower case; None unless it has one ``@``."""
    out = text(value)
    if out is None:
        return None
    out = out.replace(" ", "")
    return out if out.count("@") == 1 and not out.startswith("@") else None


def identifier(value: str | None) -> str | None:
    """An id number (ID card, passport, tax number): NFKC, upper case, letters and digits.

    ``11010519491231002x`` -> ``11010519491231002X``.
    """
    if value is None:
        return None
    out = re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", value)).upper()
    return out or None


def address(value: str | None) -> str | None:
    """An address: Simplified, lower case, without spaces or marks.

    ``北京市 朝阳区，建国路`` -> ``北京市朝阳区建国路``.
    """
    out = chinese(value)
    if out is None:
        return None
    return _NAME_MARKS.sub("", out) or None
