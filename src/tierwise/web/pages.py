"""Rendering pages: the Jinja2 templates in the request's language, and error pages.

Templates say ``{{ _("...") }}``: Jinja's i18n extension bound to :mod:`tierwise.i18n`, whose
current language the :class:`~tierwise.http.language.Language` middleware sets per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from tierwise import i18n
from tierwise.errors import EngineError, QueryTimeout, TierwiseError
from tierwise.http.clients import project_of, store_of
from tierwise.http.language import LANG_COOKIE, picked_language
from tierwise.i18n import _
from tierwise.services import access, catalog, scheme_admin
from tierwise.services import overrides as override_service
from tierwise.services.grading import Project
from tierwise.services.records import Store, User
from tierwise.web import words
from tierwise.web.session import Viewer, set_cookie

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def vendor_dir(package: str) -> Path:
    """Where an installed front-end package (e.g. ``bootstrap`` from bootstrap-wrapper) keeps its files.

    Raises:
        TierwiseError: the package is not installed; the message names the fix.

    """
    import importlib.util

    spec = importlib.util.find_spec(package)
    places = list(spec.submodule_search_locations or []) if spec is not None else []
    if not places:
        raise TierwiseError(_("the dashboard needs the {package!r} files, which are not installed; "
                              "install the server extra: pip install 'tierwise[server]'").format(
                                  package=package))
    return Path(places[0])


@cache
def environment() -> Environment:
    """The template environment; HTML is escaped unless marked safe (only our own SVG is)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    # Placeholders are {named} and filled with .format() after translation, as in Python.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n._, i18n.ngettext, newstyle=False)
    env.globals.update(svg=Markup, word=words.word, num=words.number, pct=words.percent,
                       day=words.day, moment=words.moment, compact=i18n.compact,
                       label_of=i18n.label_of, languages=words.LANGUAGE_NAMES,
                       may=access.allowed)
    # The shared macros (alert, empty, tier_badge) for every page, as ``ui``.
    env.globals["ui"] = env.get_template("_ui.html").module
    return env


def render(request: Request, template: str, *, user: User | None = None, csrf: str | None = None,
           status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language; remembers a language picked by link."""
    lang = i18n.current()
    switch = {code: switch_url(request, code) for code in words.LANGUAGE_NAMES}
    # The navigation's approvals badge: one COUNT query per page for a logged-in user.
    waiting = override_service.pending_count(store_of(request), user) if user else 0
    # The Follow-ups item shows when the project's actions set any (the bar has little room).
    follow_ups = bool(user) and any(a.follow_up is not None
                                    for a in project_of(request).spec.actions.values())
    # Linked customers shows when the project links systems and the user may read customers.
    linked = (user is not None and project_of(request).spec.linkage is not None
              and access.allowed(user, access.READ_CUSTOMERS))
    html = environment().get_template(template).render(
        lang=lang, user=user, csrf=csrf, switch=switch, path=request.url.path,
        waiting=waiting, follow_ups=follow_ups, linked=linked, scheme_title=_SchemeTitles(request),
        **context)
    response = HTMLResponse(html, status_code=status)
    if picked_language(request) is not None:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


class _SchemeTitles:
    """``scheme_title(key)`` in the templates: what people call a scheme.

    The titles (:func:`tierwise.services.scheme_admin.titles`) are read once per page, and only
    when the page asks for one.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.found: dict[str, str] | None = None

    def __call__(self, key: str) -> str:
        if self.found is None:
            self.found = scheme_admin.titles(store_of(self.request), project_of(self.request))
        return self.found.get(key, key)


@dataclass(frozen=True)
class TierText:
    """A tier as a page explains it, in the current language."""

    key: str
    label: str
    description: str | None
    strategy: str | None


def tier_texts(store: Store, scheme: str) -> dict[str, TierText]:
    """The active version's tiers of ``scheme``, best first, by key, in the current language."""
    lang = i18n.current()
    return {t.key: TierText(t.key, t.label_text(lang), t.description_text(lang),
                            t.strategy_text(lang)) for t in catalog.scheme_tiers(store, scheme)}


def tier_labels(store: Store, scheme: str) -> dict[str, str]:
    """Tier key -> label in the current language, best tier first."""
    return catalog.tier_labels(store, scheme, i18n.current())


def indicator_labels(project: Project) -> dict[str, str]:
    """Each indicator of the project by name -> its label in the current language."""
    return {name: i18n.label_of(getattr(spec, "label", None), name)
            for name, spec in project.spec.indicators.items()}


def switch_url(request: Request, lang: str) -> str:
    """This page in another language, as a path relative to the site.

    Never an absolute URL: that would be built from the request's Host header, which the client
    chooses, and a page must not link to wherever a forged Host points.
    """
    query = request.url.include_query_params(lang=lang).query
    return f"{request.url.path}?{query}"


def status_of(exc: TierwiseError, *, otherwise: int = 400) -> tuple[int, str]:
    """The HTTP status of a refused action and the page's lead-in key (``words.WORDS["lead"]``).

    The status is the REST API's (:func:`tierwise.http.errors.status_of`, ``otherwise`` for an
    error of no mapped kind), so both edges answer the same error alike.
    """
    from tierwise.http.errors import status_of as api_status

    status = api_status(exc, otherwise=otherwise)[0]
    return status, {404: "not_found", 403: "forbidden"}.get(status, "error")


def message_of(exc: TierwiseError) -> str:
    """What a page says of a refused action: never the engine's SQL."""
    from tierwise.http.errors import engine_message

    if isinstance(exc, EngineError) and not isinstance(exc, QueryTimeout):
        return engine_message(exc)[0]
    return str(exc)


def error_page(request: Request, exc: TierwiseError, *, user: User | None = None,
               csrf: str | None = None) -> HTMLResponse:
    """A page saying what was refused, with the status of its kind."""
    status, key = status_of(exc)
    return render(request, "error.html", user=user, csrf=csrf, status=status, lead=key,
                  message=message_of(exc))


def refusal(request: Request, who: Viewer, action: str) -> HTMLResponse | None:
    """The error page when the viewer's role may not do ``action``; None when it may."""
    try:
        access.require(who.user, action)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)
    return None


def bad_form(request: Request, who: Viewer) -> HTMLResponse:
    """A 400 page for a form that is incomplete or invalid."""
    return render(request, "error.html", user=who.user, csrf=who.csrf, status=400,
                  lead="bad_request", message="")
