"""Recorded runs started in the background (REST API, dashboard), with their progress.

Runs execute one at a time on a worker thread: a run already uses every core, and two runs of
one scheme and date must not overlap anyway (the store refuses the second). Jobs live only in
the memory of the server process that started them: after a restart the runs they made are in
the store, but the jobs are gone. Who started which job is in the audit log (``job.started``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tierwise import i18n
from tierwise.errors import NotFoundError, TierwiseError
from tierwise.i18n import _
from tierwise.services.grading import Project
from tierwise.services.recording import RunOutcome
from tierwise.services.runs import open_store, run, runnable_schemes
from tierwise.store import Store, visibility
from tierwise.store.runs import TierCount

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: Jobs a process keeps to show; older finished ones are forgotten first.
KEEP = 200


@dataclass(frozen=True)
class SchemeResult:
    """What a job did for one scheme: ``done``, ``skipped`` (date already done) or ``failed``."""

    scheme: str
    status: str
    as_of: date
    run_id: int | None = None
    tiers: list[TierCount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def customers(self) -> int:
        """Customers graded (or already graded, when skipped)."""
        return sum(t.customers for t in self.tiers)


@dataclass
class Job:
    """One background run of one or more schemes as of one date."""

    id: str
    schemes: list[str]
    actor: str
    as_of: date
    force: bool = False
    state: str = QUEUED  # queued | running | done | failed
    steps: list[str] = field(default_factory=list)
    results: list[SchemeResult] = field(default_factory=list)
    error: str | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the job has ended (done or failed)."""
        return self.state in (DONE, FAILED)

    def view(self) -> dict[str, Any]:
        """The job as JSON (``runs``: one entry per scheme, with its status and counts)."""
        return {"id": self.id, "schemes": self.schemes, "actor": self.actor,
                "as_of": self.as_of.isoformat(), "force": self.force,
                "state": self.state, "steps": list(self.steps),
                "runs": [_result_view(r) for r in self.results], "error": self.error,
                "started_at": self.started_at, "finished_at": self.finished_at}


def _result_view(r: SchemeResult) -> dict[str, Any]:
    return {"scheme": r.scheme, "status": r.status, "run_id": r.run_id,
            "as_of": r.as_of.isoformat(), "notes": list(r.notes), "error": r.error,
            "customers": r.customers,
            "tiers": [{"tier": t.tier, "customers": t.customers, "value_sum": t.value_sum}
                      for t in r.tiers]}


def _result(outcome: RunOutcome) -> SchemeResult:
    return SchemeResult(outcome.scheme, outcome.status, outcome.as_of, outcome.run.id,
                        list(outcome.counts), list(outcome.notes))


def error_text(exc: BaseException) -> str:
    """What a failed run says: a tierwise error's message, else the exception's kind and text."""
    return str(exc) if isinstance(exc, TierwiseError) else f"{type(exc).__name__}: {exc}"


class Jobs:
    """The background runs of one server process."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-run")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, project: Project, schemes: list[str], *, as_of: date | None, force: bool,
              actor: str, store: Store | None = None,
              done: Callable[[Job], None] | None = None) -> Job:
        """Queue a recorded run of ``schemes`` and audit who started it.

        The run speaks the caller's current language (its steps and any error), and uses
        ``store`` (default: the project's). ``done`` is called with the job when it ends.

        Raises:
            SpecError: a scheme name breaks the rule, none is named, or the as-of date is out
                of range.
            NotFoundError: the project has no such scheme.

        """
        # An unknown scheme or an impossible date fails now, not in the background.
        names = list(dict.fromkeys(schemes))
        if not names:
            from tierwise.errors import SpecError

            raise SpecError(_("name at least one scheme to run"))
        day = project.as_of(as_of)
        job = Job(uuid.uuid4().hex[:12], names, actor, day, force)
        st = store or open_store(project)
        try:
            # tierwise.yaml's schemes, or one kept in the store only (made in the dashboard).
            stored = ([] if set(names) <= set(project.spec.schemes)
                      else runnable_schemes(project, st))
            for name in names:
                if name not in stored:
                    project.scheme(name)
            with st.write() as tx:
                tx.audit.append(actor=actor, action="job.started", object_type="job",
                                object_id=job.id, after={"schemes": names,
                                                         "as_of": day.isoformat(),
                                                         "force": force})
        finally:
            if store is None:
                st.close()
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._work, job, project, store, i18n.current(), done)
        return job

    @staticmethod
    def _work(job: Job, project: Project, store: Store | None, lang: str,
              done: Callable[[Job], None] | None) -> None:
        with i18n.use(lang):
            job.state = RUNNING
            try:
                outcomes = run(project, job.schemes, as_of=job.as_of, force=job.force,
                               actor=job.actor, progress=job.steps.append, store=store)
                job.results = [_result(o) for o in outcomes]
                job.state = DONE
            except Exception as exc:
                # One scan grades every scheme of a run: a failure fails them all, and the
                # run service has marked their rows failed.
                job.error = error_text(exc)
                job.results = [SchemeResult(n, FAILED, job.as_of, error=job.error)
                               for n in job.schemes]
                job.state = FAILED
            job.finished_at = datetime.now(UTC).isoformat()
            if done is not None:
                done(job)

    def _forget_old(self) -> None:
        ended = [j for j in self._jobs.values() if j.finished]
        for old in ended[:max(0, len(self._jobs) - KEEP)]:
            del self._jobs[old.id]

    def get(self, job_id: str) -> Job:
        """A job by id.

        Raises:
            NotFoundError: no job of that id in this process (jobs end with the process).

        """
        with self._lock:
            found = self._jobs.get(job_id[:100])
        if found is not None and set(found.schemes) & visibility.hidden():
            found = None  # a run of a confidential scheme the user may not see: no such job
        if found is None:
            raise NotFoundError(_("no job {job_id!r} in this server process; jobs are kept "
                                  "only until the server restarts, the runs they made are in "
                                  "the run history").format(job_id=job_id[:100]))
        return found

    def recent(self, limit: int = 20) -> list[Job]:
        """The latest jobs of this process, newest first."""
        hidden = visibility.hidden()
        with self._lock:
            jobs = [j for j in reversed(list(self._jobs.values())) if not set(j.schemes) & hidden]
        return jobs[:limit]
