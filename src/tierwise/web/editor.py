"""The scheme editor: a scheme's active version as a form, check, preview, save, activate.

Anyone who may read sees the form read-only with the version history; supervisors and admins
(``access.EDIT_SCHEMES``) may check an edit (every problem next to its field path), preview its
impact on the active version's grades (nothing saved), save it as a new version (never
activated; refused when someone saved another version since the page was read), and activate a
version. Every form posts the session's CSRF token.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tierwise.errors import ConflictError, NotFoundError, SpecError, TierwiseError
from tierwise.http.clients import project_of, security_of, store_of
from tierwise.i18n import _, label_of
from tierwise.services import access, catalog, scheme_admin
from tierwise.services import versions as version_service
from tierwise.services.condition_fields import ConditionField, condition_fields
from tierwise.services.editing import SpecPreview, preview_spec
from tierwise.services.records import Version
from tierwise.services.rule_counts import DraftCounts
from tierwise.web import document_pages, method_forms, pages, rule_count, rules_form, tier_form
from tierwise.web.pages import bad_form, error_page, message_of, refusal, render, status_of
from tierwise.web.session import Page, Posted, Viewer

router = APIRouter(include_in_schema=False)
router.include_router(document_pages.router)  # the classification standard: /schemes/{name}/document
router.include_router(rule_count.router)  # live counts of the rules builder

EDITABLE = ("rules", "scorecard")
STABILITY = ("upgrade_after", "downgrade_after", "min_days_in_tier", "cooldown_days",
             "downgrade_margin")
# Whole numbers; the margin is a share (0.1 = 10%).
WHOLE = frozenset(STABILITY) - {"downgrade_margin"}
ACTIONS = ("check", "preview", "save", "count")
# Buttons that change the form's tier list and show it again (no JavaScript on the page).
RESHAPE = re.compile(r"^(add_tier|(?:remove|up|down):\d{1,3})$")
MAX_FIELD = 4000
MAX_TIERS = 50
TIER_FIELDS = ("label.en", "label.zh", "when", "min_score", "top_share",
               *method_forms.TEXT_FIELDS)
_TIER_FIELD = re.compile(r"^tiers\[(\d{1,3})\]\.(.+)$")


def _url(name: str, **query: str | int) -> str:
    tail = f"?{urlencode(query)}" if query else ""
    return f"/schemes/{quote(name, safe='')}{tail}"


def _text(value: Any) -> str:
    """A spec value as a form shows it: integral floats without ``.0``, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(value: Any) -> str:
    """A diffed value as text: strings as they are, other values as JSON, None as empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _number(text: str, *, integer: bool) -> int | float | str:
    """A number typed in a form; text that is no number stays text, for validation to report."""
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return text


def form_values(spec: dict[str, Any]) -> dict[str, str]:
    """The form fields of a stored scheme spec, by field path (``tiers[0].when``).

    ``tiers.count`` and each ``tiers[i].key`` carry the tier list itself, so that tiers can be
    added, removed and reordered; ``fallback`` and scorecard weights are fields too.
    """
    values: dict[str, str] = {}
    tiers = spec.get("tiers") or []
    values["tiers.count"] = str(len(tiers))
    for i, tier in enumerate(tiers):
        values[f"tiers[{i}].key"] = _text(tier.get("key"))
        values.update(tier_form.text_fields(tier, f"tiers[{i}]"))
        for key in ("when", "min_score", "top_share"):
            values[f"tiers[{i}].{key}"] = _text(tier.get(key))
    if spec.get("method") == "rules":
        values["fallback"] = _text(spec.get("fallback"))
    for i, dim in enumerate(spec.get("dimensions") or []):
        values[f"dimensions[{i}].weight"] = _text(dim.get("weight"))
    stability = spec.get("stability") or {}
    for key in STABILITY:
        values[f"stability.{key}"] = _text(stability.get(key))
    values.update(method_forms.values(spec))  # other methods' settings, every tier's texts
    return values


def reshape(form: dict[str, str], action: str) -> dict[str, str]:
    """``form`` with its tier list changed by a button: add a tier, remove or move tier ``i``.

    The tiers' fields are renumbered; every other field, and what the user typed, is kept.
    """
    try:
        count = min(int(form.get("tiers.count", "0")), MAX_TIERS)
    except ValueError:
        count = 0
    # Every field of a tier moves with it (texts, builder rows), whatever the method shows.
    rows: list[dict[str, str]] = [{} for _i in range(count)]
    for key, value in form.items():
        found = _TIER_FIELD.match(key)
        if found and int(found.group(1)) < count:
            rows[int(found.group(1))][found.group(2)] = value
    if action == "add_tier":
        if count < MAX_TIERS:
            # A new rule goes above the last tier: the last one is usually the fallback.
            at = count - 1 if form.get("fallback") and count else count
            rows.insert(at, {f: "" for f in ("key", *TIER_FIELDS)})
    else:
        op, _, index = action.partition(":")
        i = int(index)
        if 0 <= i < count:
            if op == "remove":
                rows.pop(i)
            elif op == "up" and i > 0:
                rows[i - 1], rows[i] = rows[i], rows[i - 1]
            elif op == "down" and i < count - 1:
                rows[i], rows[i + 1] = rows[i + 1], rows[i]
    out = {k: v for k, v in form.items() if not k.startswith("tiers[")}
    out["tiers.count"] = str(len(rows))
    for i, row in enumerate(rows):
        out.update({f"tiers[{i}].{f}": v for f, v in row.items()})
    return out


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None or value == "":
        target.pop(key, None)
    else:
        target[key] = value


def edited_spec(spec: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """``spec`` with the form's fields applied; fields the form does not carry stay as they were.

    With ``tiers.count`` the form gives the tier list: each tier by its key, keeping what the
    form does not show (descriptions, strategies) from the stored tier of that key; a new key
    starts a new tier. Blank fields remove the setting; the result is validated by the
    services, not here.
    """
    out = copy.deepcopy(spec)
    method = out.get("method")
    tiers = out.get("tiers") or []
    if "tiers.count" in form:
        try:
            count = min(int(form["tiers.count"]), MAX_TIERS)
        except ValueError:
            count = len(tiers)
        stored = {t.get("key"): t for t in tiers}
        tiers = []
        for i in range(count):
            key = form.get(f"tiers[{i}].key", "").strip()
            tiers.append(copy.deepcopy(stored.get(key)) or {"key": key})
        if "tiers" in out or tiers:
            out["tiers"] = tiers
    for i, tier in enumerate(tiers):
        at = f"tiers[{i}]"
        tier_form.apply_texts(tier, form, at)
        if method == "rules" and f"{at}.when" in form:
            _set(tier, "when", form[f"{at}.when"].strip())
        if method == "scorecard":
            for key in ("min_score", "top_share"):
                if f"{at}.{key}" in form:
                    text = form[f"{at}.{key}"].strip()
                    _set(tier, key, _number(text, integer=False) if text else None)
    if method == "rules" and "fallback" in form:
        out["fallback"] = form["fallback"].strip()
    for i, dim in enumerate(out.get("dimensions") or []):
        if f"dimensions[{i}].weight" in form:
            text = form[f"dimensions[{i}].weight"].strip()
            dim["weight"] = _number(text, integer=False) if text else text
    typed = {k: form.get(f"stability.{k}", "").strip() for k in STABILITY
             if f"stability.{k}" in form}
    if "stability" in out or any(typed.values()):
        stability = dict(out.get("stability") or {})
        for key, text in typed.items():
            _set(stability, key, _number(text, integer=key in WHOLE) if text else None)
        out["stability"] = stability
    method_forms.apply(out, form)
    return out


def problems_of(exc: SpecError, name: str) -> list[tuple[str, str]]:
    """Each problem as (field path inside the scheme, message)."""
    prefix = f"schemes.{name}"
    out = []
    for p in exc.problems:
        path = p.path
        if path == prefix:
            path = ""
        elif path.startswith(prefix + "."):
            path = path[len(prefix) + 1:]
        out.append((path, p.message))
    return out


def _versions(request: Request, name: str) -> tuple[list[Version], Version | None]:
    catalog.require_scheme(store_of(request), name)
    return catalog.versions(store_of(request), name)


@dataclass(frozen=True)
class Edit:
    """What an editor page shows beside the scheme: the user's edit and what became of it.

    ``form`` keeps what the user typed (None: the active version's values); ``base`` is the
    version the edit started from; then the problems a check found, whether it was checked, a
    preview of its impact, a message, and the page's status; ``activation`` is a refused
    activation's version and go-live date as typed, shown again in that version's form.
    """

    form: dict[str, str] | None = None
    base: int | None = None
    problems: list[tuple[str, str]] | None = None
    checked: bool = False
    preview: SpecPreview | None = None
    message: str | None = None
    status: int = 200
    counts: DraftCounts | None = None
    activation: tuple[int, str] | None = None


def _page(request: Request, who: Viewer, name: str, edit: Edit | None = None) -> Response:
    """The editor page of scheme ``name``, with the user's ``edit`` if any."""
    user, csrf = who.user, who.csrf
    edit = edit or Edit()
    form, base, problems = edit.form, edit.base, edit.problems
    try:
        found, active = _versions(request, name)
        if active is None:
            raise NotFoundError(_("scheme {name} has no active version; activate one with "
                                  "tierwise scheme activate").format(name=repr(name)))
        store = store_of(request)
        names, activations = catalog.scheme_names(store), catalog.activations(store, name)
        texts = pages.tier_texts(store, name)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    latest = found[-1].number if found else None
    by_number = {v.number: v for v in found}
    try:
        chosen = int(request.query_params.get("diff", ""))
    except ValueError:
        chosen = latest if latest is not None and latest != active.number else 0
    compare = by_number.get(chosen) if chosen else None
    differences = [
        {"path": d.path, "before": _shown(d.before), "after": _shown(d.after),
         "grading": d.grading}
        for d in (version_service.diff(active, compare) if compare else [])]
    try:
        saved = int(request.query_params.get("saved", ""))
    except ValueError:
        saved = 0
    by_field: dict[str, list[str]] = {}
    for path, text in problems or []:
        by_field.setdefault(path, []).append(text)
    values = form_values(active.spec)
    if form is not None:
        if "tiers.count" in form:  # the form's own tier list (maybe added to or reordered)
            values = {k: v for k, v in values.items() if not k.startswith("tiers")}
            values.update({k: v for k, v in form.items() if k.startswith("tiers")})
        values.update({k: v for k, v in form.items() if k in values})
    stored = {t.get("key") for t in active.spec.get("tiers") or []}
    try:
        count = min(int(values.get("tiers.count", "0")), MAX_TIERS)
    except ValueError:
        count = 0
    keys = [values.get(f"tiers[{i}].key", "") for i in range(count)]
    tiers = [{"key": k, "new": k not in stored or keys.index(k) != i,
              "label": label_of({lang: values.get(f"tiers[{i}].label.{lang}", "")
                                 for lang in ("en", "zh", "zh-Hant")}, k)}
             for i, k in enumerate(keys)]
    method = str(active.spec.get("method", ""))
    return render(
        request, "scheme.html", user=user, csrf=csrf, status=edit.status, scheme=name,
        title=scheme_admin.titles(store).get(name, name),
        created=request.query_params.get("created") == "1",
        schemes=names, method=method, editable=method in EDITABLE,
        can_edit=access.allowed(user, access.EDIT_SCHEMES), active=active,
        tiers=tiers, dimensions=active.spec.get("dimensions") or [], values=values,
        stability=STABILITY, whole=WHOLE, today=date.today().isoformat(),
        settings=method_forms.SETTINGS, tier_settings=method_forms.TIER_SETTINGS,
        normalize=method_forms.NORMALIZE,
        note=(form or {}).get("note", ""), base=base if base is not None else latest,
        source=active.number, spec_json=json.dumps(active.spec, indent=2, ensure_ascii=False),
        problems=problems or [], by_field=by_field, checked=edit.checked, preview=edit.preview,
        labels={k: t.label for k, t in texts.items()}, tier_texts=texts,
        indicator_labels=pages.indicator_labels(project_of(request)), message=edit.message, versions=list(reversed(found)),
        activations=activations, compare=compare, differences=differences,
        saved=by_number.get(saved), same=request.query_params.get("same") == "1",
        tried=edit.activation,
        url=_url(name), **rules_form.page_context(project_of(request), method, values, count,
                                                  posted=form is not None, counts=edit.counts))


@router.get("/schemes/{name}")
def scheme_page(name: str, request: Request, who: Page) -> Response:
    """The active version as a form (read-only without ``EDIT_SCHEMES``) and the history."""
    if (refused := refusal(request, who, access.READ)) is not None:
        return refused
    return _page(request, who, name)


@router.post("/schemes/{name}")
def edit_scheme(name: str, request: Request, post: Posted) -> Response:
    """Check, preview or save the edited form, by the button pressed (``action``)."""
    user, csrf, form = post.user, post.csrf, post.form
    action = form.get("action", "")
    try:
        source = int(form.get("source", ""))
        base = int(form["base"]) if form.get("base") else None
    except ValueError:
        action = ""
    if (action not in ACTIONS and not RESHAPE.match(action)
            and not rules_form.ACTION.match(action)) or len(form) > 40 * MAX_TIERS \
            or any(len(v) > MAX_FIELD for v in form.values()):
        return bad_form(request, post)
    try:
        access.require(user, access.EDIT_SCHEMES)
        catalog.require_scheme(store_of(request), name)
        start = catalog.version(store_of(request), name, source)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    if RESHAPE.match(action):
        # Add, remove or move a tier: the same form again, nothing checked or saved.
        return _page(request, post, name, Edit(form=reshape(form, action), base=base))
    project, store = project_of(request), store_of(request)
    fields = condition_fields(project)
    if rules_form.ACTION.match(action):  # a builder button: add or remove rows, text or rows
        return _page(request, post, name,
                     Edit(form=rules_form.reshape(form, action, fields), base=base))
    if action == "count":
        return _counted(request, post, name, Edit(form=form, base=base), fields)
    form, row_problems = rules_form.with_conditions(form, fields)
    if row_problems:
        return _page(request, post, name, Edit(form=form, base=base, problems=row_problems,
                                               status=422))
    spec = edited_spec(start.spec, form)
    note = form.get("note", "").strip() or None

    def again(**context: Any) -> Response:
        return _page(request, post, name, Edit(form=form, base=base, **context))

    try:
        if action == "check":
            version_service.with_scheme(project, name, spec)
            return again(checked=True)
        if action == "preview":
            limit = security_of(request).preview_timeout_seconds
            return again(preview=preview_spec(project, store, name, spec, timeout=limit))
        saved, created = version_service.save_edit(store, project, name, spec,
                                                   actor=user.username, base=base, note=note)
    except SpecError as exc:
        return again(problems=problems_of(exc, name), status=status_of(exc)[0])
    except ConflictError as exc:
        latest = _versions(request, name)[0]
        number = latest[-1].number if latest else 0
        text = _("Someone saved version {version} meanwhile; reload the page and redo your "
                 "edit.").format(version=number)
        return again(message=text, status=status_of(exc)[0])
    except TierwiseError as exc:
        return again(message=message_of(exc), status=status_of(exc, otherwise=422)[0])
    query: dict[str, str | int] = {"saved": saved.number}
    if not created:
        query["same"] = 1
    return RedirectResponse(_url(name, **query), status_code=303)


def _counted(request: Request, who: Viewer, name: str, edit: Edit,
             fields: dict[str, ConditionField]) -> Response:
    """The form again with each tier's count and the gaps and overlaps (no JavaScript)."""
    try:
        counts, _texts = rule_count.counts_for(request, who, name, edit.form or {}, fields)
    except TierwiseError as exc:
        return _page(request, who, name, replace(edit, message=message_of(exc),
                                                 status=status_of(exc, otherwise=422)[0]))
    return _page(request, who, name, replace(edit, counts=counts))


@router.post("/schemes/{name}/activate")
def activate_version(name: str, request: Request, post: Posted) -> Response:
    """Activate a version now or from a go-live date, then say which run makes it show.

    Versions take effect by as-of date, so the grades people see change only when a date is
    graded with the version: the Run now page says which date and offers that run.
    """
    user, csrf, form = post.user, post.csrf, post.form
    try:
        number = int(form.get("version", ""))
    except ValueError:
        return bad_form(request, post)
    typed = form.get("go_live", "").strip()[:40]
    try:
        access.require(user, access.EDIT_SCHEMES)
        _versions(request, name)
    except TierwiseError as exc:
        return error_page(request, exc, user=user, csrf=csrf)
    refused = Edit(activation=(number, typed), status=400)
    try:
        go_live = date.fromisoformat(typed) if typed else None
    except ValueError:
        text = _("{what} {value} is not a date; pick one in the calendar or type it as "
                 "YYYY-MM-DD").format(what=_("The go-live date"), value=repr(typed))
        return _page(request, post, name, replace(refused, message=text))
    try:
        done = version_service.activate(store_of(request), name, number, actor=user.username,
                                        effective_from=go_live)
    except TierwiseError as exc:
        return _page(request, post, name, replace(
            refused, message=message_of(exc), status=status_of(exc, otherwise=422)[0]))
    query = urlencode({"scheme": name, "activated": done.version})
    return RedirectResponse(f"/runs?{query}", status_code=303)
