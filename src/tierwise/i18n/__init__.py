"""Every text a person reads, in their language: English, Simplified and Traditional Chinese.

Texts are gettext messages: ``_("rule {tier} matched").format(tier=...)`` returns the text in
the *current* language, a :class:`~contextvars.ContextVar` that each edge sets once per command or
request (``with use("zh-Hans"): ...``). The catalogues are ``.po`` files, one gettext domain per
area of the code, under ``tierwise/i18n/locales/<zh_Hans|zh_Hant>/LC_MESSAGES/``; English is the
source language and needs none. ``python -m tierwise.i18n.catalogues`` extracts new messages
with Babel and fills Traditional Chinese from Simplified with OpenCC for review
(docs/architecture.md section 12).

Numbers, percentages, dates and the compact 万/亿 forms come from Babel's locale data.
"""

from __future__ import annotations

import contextvars
import io
import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date as _date
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tierwise import errors
from tierwise.errors import SpecError

if TYPE_CHECKING:
    from babel.support import Translations

#: The languages tierwise speaks, as BCP 47 tags.
LANGS: tuple[str, ...] = ("en", "zh-Hans", "zh-Hant")
DEFAULT = "en"
#: The folder of each catalogue language.
CATALOGUE_DIRS = {"zh-Hans": "zh_Hans", "zh-Hant": "zh_Hant"}
#: Babel locale used for numbers and dates: Taiwan's data has 萬/億 compact forms, Hong Kong's not.
_BABEL_LOCALE = {"en": "en", "zh-Hans": "zh_Hans_CN", "zh-Hant": "zh_Hant_TW"}
LOCALES = Path(__file__).resolve().parent / "locales"

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("tierwise_lang", default=DEFAULT)
_LOAD_LOCK = threading.Lock()

_TRADITIONAL_REGIONS = {"tw", "hk", "mo", "hant"}
_SIMPLIFIED_REGIONS = {"cn", "sg", "my", "hans"}


class LanguageError(SpecError):
    """A language tierwise does not speak."""


def normalize(tag: str | None) -> str | None:
    """The supported language for a tag like ``zh``, ``zh-CN``, ``zh_TW`` or ``en-GB``; else None.

    Chinese without a script or region is Simplified; Taiwan, Hong Kong and Macau are Traditional.
    """
    if not tag:
        return None
    parts = [p.lower() for p in tag.strip().replace("_", "-").split("-") if p]
    if not parts:
        return None
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = set(parts[1:])
    if rest & _TRADITIONAL_REGIONS and "hans" not in rest:
        return "zh-Hant"
    return "zh-Hans"


def resolve(tag: str) -> str:
    """The supported language for ``tag``; a :class:`LanguageError` naming the choices otherwise."""
    lang = normalize(tag)
    if lang is None:
        raise LanguageError(_(
            "language {tag} is not supported; use en, zh-Hans or zh-Hant (zh means Simplified "
            "Chinese, zh-TW and zh-HK Traditional Chinese)").format(tag=repr(tag)))
    return lang


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The best supported language of an HTTP ``Accept-Language`` header (RFC 9110 weights)."""
    choices: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        lang = normalize(tag)
        if lang is not None and weight > 0 and math.isfinite(weight):
            choices.append((-weight, i, lang))
    return min(choices)[2] if choices else default


def current() -> str:
    """The language of the running command or request."""
    return _LANG.get()


def set_language(lang: str) -> contextvars.Token[str]:
    """Make ``lang`` current for the rest of this context (a command, a request)."""
    return _LANG.set(resolve(lang))


@contextmanager
def use(lang: str) -> Iterator[str]:
    """Speak ``lang`` inside the block."""
    token = set_language(lang)
    try:
        yield current()
    finally:
        _LANG.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (the English text when it is English)."""
    lang = current()
    if lang == "en":
        return message
    return _translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n``, in the current language."""
    lang = current()
    if lang == "en":
        return singular if n == 1 else plural
    return _translations(lang).ngettext(singular, plural, n)


errors.use_plurals(ngettext)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now; ``_(CONST)`` translates it."""
    return message


@cache
def _translations(lang: str) -> Translations:
    with _LOAD_LOCK:
        return load(lang)


def load(lang: str) -> Translations:
    """Every domain's catalogue of ``lang`` merged into one :class:`Translations`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    merged = Translations()
    folder = LOCALES / CATALOGUE_DIRS[lang] / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=CATALOGUE_DIRS[lang], domain=po.stem)
        buffer = io.BytesIO()
        # Fuzzy entries are drafts: left out, they show the English text and fail the tests.
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        part = Translations(fp=buffer, domain=po.stem)
        # merge() copies the messages, not the plural rule: without it, an empty Translations
        # picks English's second form (n != 1), which Chinese catalogues do not have.
        merged.plural = part.plural
        merged.merge(part)
    return merged


def _locale() -> str:
    return _BABEL_LOCALE[current()]


def number(value: float | int | None, digits: int | None = None) -> str:
    """``value`` with the language's grouping; ``digits`` fixes the decimals (else up to 3)."""
    from babel.numbers import format_decimal

    if value is None:
        return "-"
    fmt = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=_locale())


def compact(value: float | int | None, digits: int = 1) -> str:
    """A short form of a large number: 12.3M in English, 1234.6万 and 1.2亿 in Chinese."""
    from babel.numbers import format_compact_decimal

    if value is None:
        return "-"
    return format_compact_decimal(value, locale=_locale(), fraction_digits=digits)


def percent(value: float | None, digits: int = 1) -> str:
    """``value`` (0.123) as a percentage (12.3%)."""
    from babel.numbers import format_percent

    if value is None:
        return "-"
    fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=fmt, locale=_locale())


def money(value: float | int | None, currency: str) -> str:
    """``value`` in ``currency`` (an ISO 4217 code) with its symbol: ¥5,000 or CN¥9,999.50."""
    from babel.numbers import format_currency

    if value is None:
        return "-"
    pattern = "¤#,##0" if float(value).is_integer() else "¤#,##0.00"
    return format_currency(value, currency, format=pattern, currency_digits=False,
                           locale=_locale())


def date(value: _date | datetime | None, style: str = "medium") -> str:
    """A date in the language's form: Dec 6, 2026 or 2026年12月6日."""
    from babel.dates import format_date

    if value is None:
        return "-"
    return format_date(value, format=style, locale=_locale())


def short_dates(days: list[_date]) -> list[str]:
    """As-of dates as short as still tells them apart, for a chart axis, in the language's form.

    Month and day within one year ("Jun 30", "6月30日"); month and year across years when no two
    dates share a month ("Jun 2026", "2026年6月"); else the short date with its year.
    """
    from babel.dates import format_skeleton

    if len({d.year for d in days}) <= 1:
        skeleton = "MMMd"
    elif len({(d.year, d.month) for d in days}) == len(days):
        skeleton = "yMMM"
    else:
        skeleton = "yMMMd"
    return [format_skeleton(skeleton, d, locale=_locale()) for d in days]


class Labelled(Protocol):
    """A spec label: English, and Simplified and Traditional Chinese when given."""

    def text(self, lang: str = "en") -> str:
        """The label in ``lang``."""
        ...


def label_of(labels: Labelled | Mapping[str, str] | None, fallback: str) -> str:
    """A label in the current language; ``fallback`` (a key, a name) when there is none."""
    if labels is None:
        return fallback
    if isinstance(labels, Mapping):
        return _pick(labels, current()) or fallback
    return labels.text(current()) or fallback


def _pick(labels: Mapping[str, Any], lang: str) -> str | None:
    """The text for ``lang`` among labels keyed by tags (en, zh, zh-Hans, zh-Hant, zh-TW ...)."""
    by_lang: dict[str, str] = {}
    for tag, text in labels.items():
        norm = normalize(tag)
        if norm is not None and text and norm not in by_lang:
            by_lang[norm] = str(text)
    # Traditional readers take Simplified before English, and the other way round.
    order = {"en": ["en", "zh-Hans", "zh-Hant"], "zh-Hans": ["zh-Hans", "zh-Hant", "en"],
             "zh-Hant": ["zh-Hant", "zh-Hans", "en"]}[lang]
    return next((by_lang[o] for o in order if o in by_lang), None)


__all__ = [
    "CATALOGUE_DIRS",
    "DEFAULT",
    "LANGS",
    "N_",
    "LanguageError",
    "_",
    "compact",
    "current",
    "date",
    "label_of",
    "load",
    "money",
    "negotiate",
    "ngettext",
    "normalize",
    "number",
    "percent",
    "resolve",
    "set_language",
    "use",
]
