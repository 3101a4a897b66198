"""Run now: start recorded runs from the dashboard and follow them as background jobs.

``/runs`` offers the schemes, the as-of date and "run again if already done"; starting a run
queues a job (:mod:`tierwise.services.jobs`) and opens its page, ``/runs/jobs/{id}``, which our
own script (``static/js/job.js``) refreshes from ``/runs/jobs/{id}/status`` while it runs; without
JavaScript the page has a Refresh link. After a version is activated in the editor, ``/runs``
says which run shows it (:mod:`tierwise.services.followup`). Supervisors and admins only.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from tierwise.errors import SpecError, TierwiseError
from tierwise.http.clients import client_of, project_of, store_of
from tierwise.http.limits import EXPENSIVE, limits_of
from tierwise.i18n import _
from tierwise.services import access, catalog
from tierwise.services.followup import AfterActivation, after_activation
from tierwise.services.jobs import Job, Jobs
from tierwise.web.pages import environment, error_page, message_of, refusal, render, status_of
from tierwise.web.pages import tier_labels as labels_of
from tierwise.web.session import Page, Posted, Viewer

router = APIRouter(include_in_schema=False)
#: A checkbox per scheme: ``run.<scheme>`` (a form keeps one value per field name).
PREFIX = "run."
MAX_SCHEMES = 50


def jobs_of(request: Request) -> Jobs:
    """The background jobs of this server process."""
    jobs: Jobs = request.app.state.jobs
    return jobs


def job_url(job: Job) -> str:
    """The page of a job."""
    return f"/runs/jobs/{quote(job.id, safe='')}"


def runnable(request: Request) -> list[str]:
    """The schemes a run can grade: the project's and those saved in the store, by name."""
    return sorted(set(project_of(request).spec.schemes) |
                  set(catalog.scheme_names(store_of(request))))


def _latest(request: Request, names: list[str]) -> dict[str, date]:
    """The as-of date of each scheme's latest official run."""
    return catalog.latest_graded(store_of(request), names)


def _followup(request: Request) -> AfterActivation | None:
    """What the activation named in the query (``?scheme=S&activated=N``) changes, if any."""
    q = request.query_params
    try:
        number = int(q.get("activated", "")[:9])
    except ValueError:
        return None
    try:
        return after_activation(store_of(request), q.get("scheme", "")[:200], number)
    except TierwiseError:
        return None


def _form_page(request: Request, who: Viewer, *, form: dict[str, str] | None = None,
               message: str | None = None, status: int = 200) -> Response:
    """The Run now page: the form (with what the user typed), recent jobs, a follow-up."""
    names = runnable(request)
    q = request.query_params
    if form is None:
        form = {f"{PREFIX}{n}": "1" for n in q.getlist("scheme") if n in names}
        form.update({k: q[k][:20] for k in ("as_of", "force") if q.get(k)})
    try:
        default = project_of(request).as_of(None).isoformat()
    except SpecError:
        default = ""
    return render(request, "runs.html", user=who.user, csrf=who.csrf, status=status,
                  schemes=names, latest=_latest(request, names), form=form, prefix=PREFIX,
                  default_as_of=default, project_as_of=project_of(request).spec.as_of,
                  message=message, jobs=jobs_of(request).recent(), job_url=job_url,
                  followup=_followup(request))


@router.get("/runs")
def runs_page(request: Request, who: Page) -> Response:
    """Choose schemes and a date, and start a run; the latest jobs of this server."""
    if (refused := refusal(request, who, access.RUN)) is not None:
        return refused
    return _form_page(request, who)


@router.post("/runs")
def start_run(request: Request, post: Posted) -> Response:
    """Start a recorded run of the ticked schemes in the background and open its page."""
    user, form = post.user, post.form
    if (refused := refusal(request, post, access.RUN)) is not None:
        return refused
    names = [k[len(PREFIX):] for k, v in form.items() if k.startswith(PREFIX) and v][:MAX_SCHEMES]
    try:
        if not names:
            raise SpecError(_("Tick at least one scheme to run."))
        text = form.get("as_of", "").strip()
        try:
            as_of = date.fromisoformat(text) if text else None
        except ValueError:
            raise SpecError(_("The as-of date {text} is not a date; write it as YYYY-MM-DD.")
                            .format(text=repr(text[:20]))) from None
        # A run is the most expensive request there is: charged like searches and exports.
        limits_of(request).check(EXPENSIVE, client=client_of(request), user=user.username)
        job = jobs_of(request).start(project_of(request), names, as_of=as_of,
                                     force=form.get("force") == "1", actor=user.username,
                                     store=store_of(request))
    except TierwiseError as exc:
        return _form_page(request, post, form=form, message=message_of(exc),
                          status=status_of(exc, otherwise=422)[0])
    return RedirectResponse(job_url(job), status_code=303)


def _job_context(request: Request, job: Job, csrf: str) -> dict[str, Any]:
    labels: dict[str, dict[str, str]] = {}
    for name in job.schemes:
        try:
            labels[name] = labels_of(store_of(request), name)
        except TierwiseError:
            labels[name] = {}
    return {"job": job, "labels": labels, "csrf": csrf, "prefix": PREFIX}


def _job(request: Request, who: Viewer, job_id: str) -> Job | Response:
    if (refused := refusal(request, who, access.RUN)) is not None:
        return refused
    try:
        return jobs_of(request).get(job_id)
    except TierwiseError as exc:
        return error_page(request, exc, user=who.user, csrf=who.csrf)


@router.get("/runs/jobs/{job_id}")
def job_page(job_id: str, request: Request, who: Page) -> Response:
    """A job's steps, then its result per scheme; ``job.js`` keeps it current."""
    found = _job(request, who, job_id)
    if isinstance(found, Response):
        return found
    return render(request, "job.html", user=who.user,
                  **_job_context(request, found, who.csrf))


@router.get("/runs/jobs/{job_id}/status")
def job_status(job_id: str, request: Request, who: Page) -> Response:
    """A job as JSON for the page's script: its state, and its status block as HTML."""
    found = _job(request, who, job_id)
    if isinstance(found, Response):
        status = found.status_code
        return JSONResponse({"error": _("no such job in this server process")}, status)
    html = environment().get_template("_job_status.html").render(
        **_job_context(request, found, who.csrf))
    return JSONResponse({**found.view(), "finished": found.finished, "html": html})
