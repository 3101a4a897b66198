"""A tier's texts as form fields: label, description and strategy in English, zh and zh-Hant.

Fields are named ``tiers[i].<text>.<language>`` (``tiers[0].strategy.zh-Hant``). A text left
blank in every language is removed from the tier; one given in Chinese only is refused by the
spec's validation, which needs the English text every other language falls back to.
"""

from __future__ import annotations

from typing import Any

TEXTS = ("label", "description", "strategy")
LANGS = ("en", "zh", "zh-Hant")


def text_fields(tier: dict[str, Any], at: str) -> dict[str, str]:
    """The form fields of a stored tier's texts, under the field prefix ``at`` (``tiers[0]``)."""
    out: dict[str, str] = {}
    for text in TEXTS:
        given = tier.get(text)
        if isinstance(given, str):
            given = {"en": given}
        given = given or {}
        for lang in LANGS:
            out[f"{at}.{text}.{lang}"] = str(given.get(lang) or "")
    return out


def apply_texts(tier: dict[str, Any], form: dict[str, str], at: str) -> None:
    """Set the tier's texts the form carries (a text with no field in the form stays as it was).

    A language the form has no field for keeps its stored text, so a form showing only some
    languages never erases the others.
    """
    for text in TEXTS:
        if not any(f"{at}.{text}.{lang}" in form for lang in LANGS):
            continue
        stored = tier.get(text)
        merged = dict({"en": stored} if isinstance(stored, str) else stored or {})
        for lang in LANGS:
            if f"{at}.{text}.{lang}" in form:
                merged[lang] = form[f"{at}.{text}.{lang}"].strip()
        kept = {k: v for k, v in merged.items() if v}
        if kept:
            tier[text] = kept
        else:
            tier.pop(text, None)
