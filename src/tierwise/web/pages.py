"""Rendering pages: the Jinja2 templates, the chosen language, and error pages."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from tierwise.errors import EngineError, QueryTimeout, TierwiseError
from tierwise.services import access
from tierwise.services.records import User
from tierwise.web import i18n
from tierwise.web.session import LANG_COOKIE, Viewer, set_cookie

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@cache
def environment() -> Environment:
    """The template environment; HTML is escaped unless marked safe (only our own SVG is)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["svg"] = Markup
    return env


def lang_of(request: Request) -> str:
    """The page language: ``?lang=`` first, then the ``tw_lang`` cookie, then English."""
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in i18n.LANGS else i18n.DEFAULT


def render(request: Request, template: str, *, user: User | None = None, csrf: str | None = None,
           status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the page's language; remembers a language chosen by link."""
    lang = lang_of(request)
    other = "en" if lang == "zh" else "zh"

    def num(value: float | int | None, digits: int = 0) -> str:
        return i18n.number(value, lang, digits=digits)

    def pct(share: float | None) -> str:
        return i18n.percent(share, lang)

    def day(value: date | None) -> str:
        return i18n.day(value, lang)

    def moment(value: datetime | None, seconds: bool = False) -> str:
        return i18n.moment(value, lang, seconds=seconds)

    html = environment().get_template(template).render(
        t=i18n.words(lang), lang=lang, user=user, csrf=csrf, num=num, pct=pct, day=day,
        moment=moment,
        switch_url=switch_url(request, other), **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in i18n.LANGS:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


def switch_url(request: Request, lang: str) -> str:
    """This page in another language, as a path relative to the site.

    Never an absolute URL: that would be built from the request's Host header, which the client
    chooses, and a page must not link to wherever a forged Host points.
    """
    query = request.url.include_query_params(lang=lang).query
    return f"{request.url.path}?{query}"


def status_of(exc: TierwiseError, *, otherwise: int = 400) -> tuple[int, str]:
    """The HTTP status of a refused action and the page's lead-in key.

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
