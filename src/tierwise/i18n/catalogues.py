"""Keep the message catalogues in step with the code: extract, update, fill Traditional Chinese.

``python -m tierwise.i18n.catalogues update`` extracts every ``_()``, ``ngettext()`` and ``N_()``
message of the source (and ``_()`` in the dashboard's Jinja templates) with Babel, per domain
(``domains.toml``), and merges them into each language's ``.po`` files: new messages arrive
empty, removed ones become obsolete. ``hant`` fills the empty Traditional Chinese entries from
the Simplified ones with OpenCC's Taiwan phrasing (``s2twp``), to be reviewed like any
translation; ``docs`` writes the Traditional Chinese documents from the Simplified ones the
same way. ``check`` lists what is missing; the tests run the same check.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.i18n import CATALOGUE_DIRS, LOCALES

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parents[3]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
_HEADER: dict[str, Any] = {
    "project": "tierwise",
    "version": "1",
    "header_comment": "# tierwise messages. Keep in step with the code:\n"
                      "# python -m tierwise.i18n.catalogues update",
    "copyright_holder": "the tierwise authors",
    "msgid_bugs_address": "the project's issue tracker",
    "last_translator": "tierwise",
    "language_team": "tierwise",
    "creation_date": datetime(2026, 12, 6, tzinfo=UTC),
    "revision_date": datetime(2026, 12, 6, tzinfo=UTC),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}")


def domains() -> dict[str, list[str]]:
    """Each domain with the source paths (relative to the repository) it holds."""
    with (Path(__file__).with_name("domains.toml")).open("rb") as fh:
        data = tomllib.load(fh)
    return {name: list(section["paths"]) for name, section in data.items()}


def domain_of(path: Path, root: Path = ROOT) -> str:
    """The domain of a source file: the one with the longest path that contains it."""
    rel = path.resolve().relative_to(root).as_posix()
    best, length = "messages", -1
    for name, paths in domains().items():
        for prefix in paths:
            if (rel == prefix or rel.startswith(prefix.rstrip("/") + "/")) and len(prefix) > length:
                best, length = name, len(prefix)
    return best


def _sources(root: Path) -> Iterable[Path]:
    src = root / "src" / "tierwise"
    yield from sorted(src.rglob("*.py"))
    yield from sorted((src / "web" / "templates").rglob("*.html"))


def extract(root: Path = ROOT) -> dict[str, Catalog]:
    """A template catalogue per domain, with every message of the source and where it is used."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    templates = {name: Catalog(fuzzy=False, **_HEADER) for name in domains()}
    for path in _sources(root):
        method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if path.suffix == ".html" else {}
        rel = path.relative_to(root).as_posix()
        for lineno, message, comments, _context in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=options,
                comment_tags=("TRANSLATORS:",)):
            templates[domain_of(path, root)].add(
                message, locations=[(rel, lineno)], auto_comments=comments,
                flags=("python-brace-format",) if _PLACEHOLDER.search(_first(message)) else ())
    return templates


def _strings(text: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's id or string as a tuple (plural messages have several)."""
    if text is None:
        return ()
    return (text,) if isinstance(text, str) else tuple(text)


def _first(message: str | tuple[str, ...] | list[str]) -> str:
    return _strings(message)[0]


def _po_path(lang: str, domain: str) -> Path:
    return LOCALES / CATALOGUE_DIRS[lang] / "LC_MESSAGES" / f"{domain}.po"


def _read(lang: str, domain: str) -> Catalog:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = _po_path(lang, domain)
    if not path.exists():
        return Catalog(locale=CATALOGUE_DIRS[lang], domain=domain, fuzzy=False, **_HEADER)
    with path.open("rb") as fh:
        return read_po(fh, locale=CATALOGUE_DIRS[lang], domain=domain)


def _write(catalog: Catalog, lang: str, domain: str) -> None:
    from babel.messages.pofile import write_po

    path = _po_path(lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True,
                 ignore_obsolete=True, include_previous=False, include_lineno=False)


def update(root: Path = ROOT) -> None:
    """Merge the source's messages into every catalogue; new ones arrive untranslated."""
    for domain, template in extract(root).items():
        for lang in CATALOGUE_DIRS:
            catalog = _read(lang, domain)
            # No fuzzy matching: a guessed translation of a near-identical message is wrong as
            # often as right, and a missing one is caught by the tests.
            catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
            _write(catalog, lang, domain)


def fill_traditional() -> int:
    """Fill empty zh-Hant entries from zh-Hans with OpenCC (Taiwan phrasing); how many."""
    convert = _opencc()
    filled = 0
    for domain in domains():
        hans, hant = _read("zh-Hans", domain), _read("zh-Hant", domain)
        for message in hant:
            if not message.id or _done(message.string):
                continue
            source = hans.get(message.id)
            if source is None or not _done(source.string):
                continue
            converted = tuple(convert(s) for s in _strings(source.string))
            message.string = converted[0] if isinstance(source.string, str) else converted
            filled += 1
        _write(hant, "zh-Hant", domain)
    return filled


#: The Simplified Chinese documents, and where their Traditional drafts go.
DOCS = {"README.zh-CN.md": "README.zh-TW.md", "docs/zh-CN": "docs/zh-TW"}
_LANGUAGE_LINE = re.compile(r"^\[English\]\(([^)]*)\) · .*$", re.M)


def traditional_docs(root: Path = ROOT) -> list[Path]:
    """Write the Traditional Chinese documents from the Simplified ones (OpenCC, Taiwan phrasing).

    Inside code blocks, lines that give a Simplified label (``zh: ...``) stay as they are: they
    show what to write in YAML. Links to Simplified documents point to their Traditional drafts.
    """
    convert = _opencc()
    written = []
    for source, target in DOCS.items():
        src = root / source
        pairs = ([(src, root / target)] if src.is_file()
                 else [(p, root / target / p.name) for p in sorted(src.glob("*.md"))])
        for path, out in pairs:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(_convert_doc(path.read_text(encoding="utf-8"), convert, path.name),
                           encoding="utf-8")
            written.append(out)
    return written


def _convert_doc(text: str, convert: Callable[[str], str], name: str) -> str:
    lines, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        keep = fenced and re.search(r"\bzh(-Hans|-CN)?:\s", line)
        lines.append(line if keep else convert(line))
    out = "".join(lines).replace("zh-CN/", "zh-TW/").replace("README.zh-CN.md", "README.zh-TW.md")

    def language_line(match: re.Match[str]) -> str:
        english = match.group(1)
        here = "README" if name.startswith("README") else name.removesuffix(".md")
        simplified = ("README.zh-CN.md" if here == "README" else f"../zh-CN/{name}")
        return f"[English]({english}) · [简体中文]({simplified}) · 繁體中文"

    return _LANGUAGE_LINE.sub(language_line, out, count=1)


#: Where OpenCC's Taiwan phrasing still reads as mainland usage, or guesses the wrong character.
TAIWAN = {"質量": "品質", "演示": "示範", "併為": "並為", "--lang zh ": "--lang zh-TW ",
          "--lang zh\n": "--lang zh-TW\n"}


def _opencc() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - a maintainer's tool
        raise SystemExit("install OpenCC first: pip install 'opencc>=1.1,<2'") from exc
    convert = opencc.OpenCC("s2twp").convert

    def taiwan(text: str) -> str:
        out = convert(text)
        for mainland, local in TAIWAN.items():
            out = out.replace(mainland, local)
        return str(out)

    return taiwan


def _done(text: str | tuple[str, ...] | list[str] | None) -> bool:
    strings = _strings(text)
    return bool(strings) and all(strings)


@dataclass(frozen=True)
class Problem:
    """A message that is not translated properly in one language."""

    lang: str
    domain: str
    message: str
    problem: str

    def __str__(self) -> str:
        return f"{self.lang}/{self.domain}.po: {self.message!r}: {self.problem}"


def check(root: Path = ROOT) -> list[Problem]:
    """Every message of the source that lacks a translation, or whose placeholders differ."""
    problems = []
    for domain, template in extract(root).items():
        for lang in CATALOGUE_DIRS:
            catalog = _read(lang, domain)
            for message in template:
                if not message.id:
                    continue
                problems += _check_one(lang, domain, message.id, catalog)
    return problems


def _check_one(lang: str, domain: str, msgid: str | tuple[str, ...] | list[str], catalog: Catalog
               ) -> list[Problem]:
    key = _first(msgid)
    found = catalog.get(msgid)
    if found is None or not _done(found.string):
        return [Problem(lang, domain, key, "not translated; run "
                        "`python -m tierwise.i18n.catalogues update` and write the msgstr")]
    if found.fuzzy:
        return [Problem(lang, domain, key, "marked fuzzy; review the msgstr and remove the flag")]
    wanted = set(_PLACEHOLDER.findall(key))
    return [Problem(lang, domain, key, f"placeholders {sorted(got)} differ from {sorted(wanted)}")
            for got in (set(_PLACEHOLDER.findall(s)) for s in _strings(found.string))
            if got != wanted]


def main(argv: list[str] | None = None) -> int:
    """``update``, ``hant`` or ``check`` (see the module's text)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "update":
        update()
        print("catalogues updated; write the new zh_Hans msgstr, then run `hant`")
    elif command == "hant":
        print(f"filled {fill_traditional()} Traditional Chinese entries from Simplified; review them")
    elif command == "docs":
        for path in traditional_docs():
            print(f"wrote {path.relative_to(ROOT)}; review it")
    elif command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    else:
        print("usage: python -m tierwise.i18n.catalogues update|hant|docs|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
