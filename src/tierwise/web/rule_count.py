"""Live counts beside the rules editor: what each edited condition matches, as JSON or on the page.

``POST /schemes/{name}/count`` takes the editor's form as it stands (session cookie, the
form's CSRF token) and answers with each tier's canonical condition text and the HTML of its
count line, and the HTML of the gaps-and-overlaps panel: the page's script (static/js/builder.js)
calls it, debounced, as the user edits. Without JavaScript the form's "Count" button shows the
same, through :func:`counts_for`. The counts are the service's
(:func:`tierwise.services.rule_counts.count_drafts`), limited like a customer search.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.http.clients import client_of, project_of, security_of, store_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.services import access, catalog
from tierwise.services.condition_fields import ConditionField, condition_fields
from tierwise.services.rule_counts import DraftCounts, RuleDraft, RuleDrafts, count_drafts
from tierwise.web import rules_form
from tierwise.web.pages import environment, message_of, status_of, tier_labels
from tierwise.web.session import Posted, Viewer

router = APIRouter(include_in_schema=False)
MAX_FIELDS = 2000


def counts_for(request: Request, who: Viewer, name: str, form: dict[str, str],
               fields: dict[str, ConditionField]) -> tuple[DraftCounts, dict[int, str]]:
    """Count the form's conditions on the scheme's latest run; also each tier's text by index.

    Rows being typed count leniently: a row with no indicator yet is left out, and a tier
    whose rows have a problem shows the problem instead of a count.

    Raises:
        TierwiseError: Not allowed, rate limited, no run to count on, or past the time limit.
    """
    access.require(who.user, access.EDIT_SCHEMES)
    store = store_of(request)
    catalog.require_scheme(store, name)
    limits_of(request).check(EXPENSIVE, client=client_of(request), user=who.user.username)
    written, problems = rules_form.with_conditions(form, fields, lenient=True)
    broken = {int(path[6:path.index("]")]): text for path, text in problems}
    try:
        start = catalog.version(store, name, int(form.get("source", "")))
        stored = {t.get("key"): t for t in start.spec.get("tiers") or []}
        value = start.spec.get("value")
    except ValueError:
        stored, value = {}, None
    drafts, texts = [], {}
    for i in range(rules_form.count_of(form)):
        key = form.get(f"tiers[{i}].key", "").strip()
        when = written.get(f"tiers[{i}].when", "").strip() or None
        texts[i] = when or ""
        if i in broken:
            when = None
        drafts.append(RuleDraft(key, when, (stored.get(key) or {}).get("priority")))
    counts = count_drafts(project_of(request), store,
                          RuleDrafts(name, drafts, form.get("fallback") or None, value),
                          visible=access.visible_customers(store, who.user),
                          timeout=security_of(request).search_timeout_seconds)
    return _with_problems(counts, broken), texts


def _with_problems(counts: DraftCounts, broken: dict[int, str]) -> DraftCounts:
    tiers = [replace(t, error=broken[i]) if i in broken else t
             for i, t in enumerate(counts.tiers)]
    return replace(counts, tiers=tiers)


def pieces(counts: DraftCounts, labels: dict[str, str],
           fields: dict[str, ConditionField]) -> dict[str, Any]:
    """The HTML of each tier's count line (by index) and of the panel, as the page shows them."""
    macros: Any = environment().get_template("_rule_counts.html").module
    return {
        "tiers": {str(i): str(macros.tier_line(t, counts)) for i, t in enumerate(counts.tiers)},
        "panel": str(macros.panel(counts, labels, fields)),
    }


@router.post("/schemes/{name}/count")
def count(name: str, request: Request, post: Posted) -> Response:
    """Counts of the posted editor form, as JSON: ``{tiers, panel, when}`` or ``{error}``."""
    form = post.form
    if len(form) > MAX_FIELDS or any(len(v) > 4000 for v in form.values()):
        return JSONResponse({"error": "too large"}, status_code=400)
    project = project_of(request)
    fields = condition_fields(project)
    try:
        counts, texts = counts_for(request, post, name, form, fields)
        labels = tier_labels(store_of(request), name)
    except TierwiseError as exc:
        # No run yet is a state to explain (counts follow the first run), not a failure.
        kind = "info" if isinstance(exc, NotFoundError) else "danger"
        return JSONResponse({"error": message_of(exc), "kind": kind},
                            status_code=status_of(exc, otherwise=422)[0])
    return JSONResponse({**pieces(counts, labels, fields),
                         "when": {str(i): t for i, t in texts.items()}})

