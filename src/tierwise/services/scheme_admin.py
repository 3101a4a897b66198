"""Schemes made and kept outside tierwise.yaml: create, duplicate, rename, retire, restore.

A scheme created here (from the dashboard, the API or ``tierwise scheme new``) lives in the
store only: version 1 is saved and activated for every date, so ``tierwise run NAME`` grades it
at once. Its key never changes (runs and history reference it); what people see is its title.
A retired scheme keeps its versions and history, is hidden from listings and is no longer run by
``run --all`` or schedules, until it is restored. Every change is audited.

Templates (:mod:`tierwise.services.scheme_templates`) are data: a title and description in
en/zh/zh-Hant, the indicators they read with a definition to copy when the project lacks one,
and the scheme itself.
"""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from tierwise import i18n, methods
from tierwise.errors import ConflictError, NotFoundError, Problem, SpecError
from tierwise.i18n import _
from tierwise.services import versions as version_service
from tierwise.services.grading import Project
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store import schemes as store_schemes
from tierwise.store.repos import Tx
from tierwise.store.schemes import SchemeInfo, Version

TEMPLATE_DIR = Path(__file__).resolve().parent / "scheme_templates"
#: The templates a new scheme may start from, in the order they are offered.
TEMPLATES = ("blank", "retail_value", "rfm11", "rfm_cn8", "abc", "scorecard", "clv", "lifecycle",
             "churn_model")
MAX_TITLE = 200

_BLANK: dict[str, Any] = {
    "title": {"en": "Blank rules scheme", "zh": "空白规则方案", "zh-Hant": "空白規則方案"},
    "description": {
        "en": "One tier that takes every customer; add the tiers and their conditions yourself.",
        "zh": "只有一个等级，包含全部客户；再自行添加等级和条件。",
        "zh-Hant": "只有一個等級，包含全部客戶；再自行新增等級和條件。"},
    "indicators": {},
    "scheme": {"method": "rules", "fallback": "everyone", "tiers": [
        {"key": "everyone",
         "label": {"en": "All customers", "zh": "全部客户", "zh-Hant": "全部客戶"}}]},
}


@dataclass(frozen=True)
class Template:
    """A scheme to start from: its texts, the indicators it reads, and the scheme."""

    key: str
    title: dict[str, str]
    description: dict[str, str]
    indicators: dict[str, str]
    scheme: dict[str, Any]

    def title_text(self) -> str:
        """The template's title in the current language."""
        return i18n.label_of(self.title, self.key)

    def description_text(self) -> str:
        """What the template grades by, in the current language."""
        return i18n.label_of(self.description, "")

    def method(self) -> str:
        """The template's grading method."""
        return str(self.scheme["method"])


@cache
def _load(key: str) -> Template:
    doc = _BLANK if key == "blank" else YAML(typ="safe", pure=True).load(
        (TEMPLATE_DIR / f"{key}.yaml").read_text(encoding="utf-8"))
    return Template(key, dict(doc["title"]), dict(doc["description"]),
                    dict(doc.get("indicators") or {}), dict(doc["scheme"]))


def templates() -> list[Template]:
    """Every template, in the order they are offered."""
    return [_load(key) for key in TEMPLATES]


def template(key: str) -> Template:
    """The template ``key``.

    Raises:
        NotFoundError: no such template; the message lists them.

    """
    if key not in TEMPLATES:
        raise NotFoundError(_("no scheme template {key}; templates: {known}").format(
            key=repr(key), known=_(", ").join(TEMPLATES)))
    return _load(key)


def missing_indicators(project: Project, chosen: Template) -> list[str]:
    """The indicators ``chosen`` reads that the project does not declare, in its order."""
    return [n for n in chosen.indicators if n not in project.spec.indicators]


def missing_problem(chosen: Template, missing: list[str]) -> SpecError:
    """The refusal of a template whose indicators the project lacks: which, and how to add them."""
    lines = "; ".join(f"{n}: {chosen.indicators[n]}" for n in missing)
    return SpecError(Problem(
        _("template {template} needs the indicators {names}, which tierwise.yaml does not "
          "declare; add them under `indicators:` (for example {lines}, with your own source and "
          "column names), or start from a template that fits").format(
              template=chosen.title_text(), names=_(", ").join(missing), lines=lines),
        path="template"))


@dataclass(frozen=True)
class TemplateFit:
    """A template and the indicators it needs that the project lacks (empty: it fits)."""

    template: Template
    missing: list[str]


def fits(project: Project) -> list[TemplateFit]:
    """Every template with the indicators the project would need to add for it."""
    return [TemplateFit(t, missing_indicators(project, t)) for t in templates()]


@dataclass(frozen=True)
class NewScheme:
    """A scheme to create: its key, the title people see, and a template or a spec."""

    name: str
    title: str | None = None
    template: str | None = None
    spec: dict[str, Any] | None = None
    note: str | None = None


def _title(title: str | None) -> str | None:
    text = " ".join((title or "").split())
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")),
               None)
    if bad is not None:
        raise SpecError(Problem(_("the title holds the control or invisible character {code}; "
                                  "type it without").format(code=f"U+{ord(bad):04X}"),
                                path="title"))
    if len(text) > MAX_TITLE:
        raise SpecError(Problem(_("the title has {n} characters; keep it to {most}").format(
            n=len(text), most=MAX_TITLE), path="title"))
    return text or None


def _free(tx: Tx, project: Project, name: str) -> None:
    """Refuse a key tierwise.yaml or the store already has."""
    if name in project.spec.schemes:
        raise ConflictError(_("scheme {name} is already in tierwise.yaml; choose another "
                              "key").format(name=repr(name)))
    if name in tx.schemes.scheme_names():
        raise ConflictError(_("scheme {name} is already in the store; choose another key, or "
                              "open it to edit it").format(name=repr(name)))


def create(store: Store, project: Project, new: NewScheme, *, actor: str) -> Version:
    """Create scheme ``new.name`` as version 1, active for every date; audited.

    Raises:
        SpecError: the key breaks the scheme-name rule, the title is too long, the template
            reads indicators the project lacks, or the scheme is invalid (every problem).
        ConflictError: tierwise.yaml or the store already has the key.
        NotFoundError: no such template.

    """
    name = check_scheme_name(new.name, path="name")
    title = _title(new.title)
    if new.spec is not None:
        spec = copy.deepcopy(new.spec)
    else:
        chosen = template(new.template or "blank")
        missing = missing_indicators(project, chosen)
        if missing:
            raise missing_problem(chosen, missing)
        spec = copy.deepcopy(chosen.scheme)
    with store.read() as tx:
        _free(tx, project, name)
    content, indicators, print_ = version_service.grading_content(
        version_service.with_scheme(project, name, spec), name)
    return _record(store, project, name, (content, indicators, print_), title=title,
                   actor=actor, note=new.note, origin={"template": new.template})


def _record(store: Store, project: Project, name: str,
            content: tuple[dict[str, Any], dict[str, Any], str], *, title: str | None,
            actor: str, note: str | None, origin: dict[str, Any]) -> Version:
    spec, indicators, print_ = content
    with store.write() as tx:
        _free(tx, project, name)
        tx.schemes.lock(name, create=True)
        saved, _new = tx.schemes.save_version(name, spec=spec, indicators=indicators,
                                              fingerprint=print_, actor=actor, note=note)
        tx.schemes.activate(name, saved.number, actor=actor,
                            effective_from=store_schemes.FOREVER, kind="activate")
        if title:
            tx.schemes.set_title(name, title, actor=actor)
        tx.audit.append(actor=actor, action="scheme.created", object_type="scheme",
                        object_id=name, before=None, after={**origin, "title": title})
        return saved


def duplicate(store: Store, project: Project, source: str, new_name: str, *,
              title: str | None, actor: str) -> Version:
    """A new scheme with the content of ``source``'s active version, as its version 1.

    Raises:
        SpecError: the new key or title is invalid.
        ConflictError: the new key is taken.
        NotFoundError: ``source`` is not in the store or has no active version.

    """
    name = check_scheme_name(new_name, path="name")
    title = _title(title)
    with store.read() as tx:
        active = tx.schemes.active_version(source)
    if active is None:
        raise NotFoundError(_("scheme {name} has no active version to copy; activate one "
                              "first").format(name=repr(source)))
    content = (active.spec, active.indicators, active.fingerprint)
    return _record(store, project, name, content, title=title, actor=actor,
                   note=_("copy of {name} version {number}").format(name=source,
                                                                   number=active.number),
                   origin={"copy_of": source, "version": active.number})


def rename(store: Store, name: str, title: str | None, *, actor: str) -> SchemeInfo:
    """Give scheme ``name`` a new title (blank: its label again); the key stays."""
    text = _title(title)
    with store.write() as tx:
        tx.schemes.set_title(name, text, actor=actor)
        return tx.schemes.info(name)


def retire(store: Store, name: str, *, actor: str, retired: bool = True) -> SchemeInfo:
    """Retire scheme ``name`` (``retired=False``: restore it); its history stays."""
    with store.write() as tx:
        return tx.schemes.set_retired(name, retired, actor=actor)


def retired_names(store: Store) -> set[str]:
    """The schemes that are retired."""
    with store.read() as tx:
        return {i.name for i in tx.schemes.infos() if i.retired_at is not None}


@dataclass(frozen=True)
class SchemeRow:
    """A scheme as the scheme list shows it."""

    name: str
    title: str
    method: str | None
    active: int | None
    latest_run: date | None
    tiers: int
    retired: bool
    in_file: bool
    stored: bool = True


def shown_title(info: SchemeInfo, active: Version | None) -> str:
    """What people call a scheme: its title, else its label (current language), else its key."""
    if info.title:
        return info.title
    label = active.spec.get("label") if active else None
    if isinstance(label, str):
        return label or info.name
    return i18n.label_of(label, info.name) if isinstance(label, dict) else info.name


def titles(store: Store, project: Project | None = None) -> dict[str, str]:
    """Every scheme's key -> the title people see, in the current language.

    With ``project``, the schemes of its tierwise.yaml that the store has not met yet (no run,
    no edit) are titled by their label too.
    """
    with store.read() as tx:
        out = {i.name: shown_title(i, tx.schemes.active_version(i.name))
               for i in tx.schemes.infos()}
    for name, spec in (project.spec.schemes.items() if project else ()):
        if name not in out:
            label = spec.label
            out[name] = (label or name) if isinstance(label, str) else i18n.label_of(label, name)
    return out


def listing(store: Store, project: Project, *, retired: bool = False) -> list[SchemeRow]:
    """Every scheme by title: the store's, and tierwise.yaml's the store has not met yet.

    ``retired`` adds the retired ones. A scheme of the file not met yet (``stored`` False) is saved on its first run.
    """
    rows = []
    names = titles(store, project)
    with store.read() as tx:
        infos = tx.schemes.infos()
        for name, scheme in project.spec.schemes.items():
            if all(i.name != name for i in infos):
                rows.append(SchemeRow(name, names[name], scheme.method, None, None,
                                      len(methods.scheme_tiers(scheme)), False, True,
                                      stored=False))
        for info in infos:
            if info.retired_at is not None and not retired:
                continue
            active = tx.schemes.active_version(info.name)
            history = tx.runs.history_runs(info.name)
            spec = version_service.scheme_of(active) if active else None
            rows.append(SchemeRow(
                info.name, shown_title(info, active), spec.method if spec else None,
                active.number if active else None, history[-1].as_of if history else None,
                len(methods.scheme_tiers(spec)) if spec else 0, info.retired_at is not None,
                info.name in project.spec.schemes))
    return sorted(rows, key=lambda r: (r.retired, r.title.casefold(), r.name))


def scheme_yaml(store: Store, name: str, number: int | None = None) -> str:
    """Version ``number`` (default: the active one) of ``name`` as tierwise.yaml writes it.

    The text is ``name:`` and the scheme below it, to paste under ``schemes:`` so that the file
    matches what the store grades with.

    Raises:
        NotFoundError: no such scheme or version, or no active version.

    """
    import io

    with store.read() as tx:
        chosen = tx.schemes.version(name, number) if number else tx.schemes.active_version(name)
    if chosen is None:
        raise NotFoundError(_("scheme {name} has no active version; name one with "
                              "--version").format(name=repr(name)))
    out = io.StringIO()
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    writer.allow_unicode = True
    writer.dump({name: chosen.spec}, out)
    return out.getvalue()


def method_tiers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The tiers a stored scheme grades into, best first, as they would be written in the spec.

    For RFM these are the segment map's segments, relabelled by the scheme's own ``tiers``.
    """
    try:
        scheme = version_service.scheme_of_spec(spec)
    except ValidationError:  # a draft that does not validate yet: its own tiers
        return list(spec.get("tiers") or [])
    return [t.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for t in methods.scheme_tiers(scheme)]


def full_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored scheme spec with every default filled in (what a form shows as the value)."""
    try:
        scheme = version_service.scheme_of_spec(spec)
    except ValidationError:  # a draft that does not validate yet shows what it has
        return spec
    out: dict[str, Any] = scheme.model_dump(mode="json", by_alias=True)
    return out
