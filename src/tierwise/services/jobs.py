"""Recorded runs started in the background (from the REST API), with their progress.

Runs execute one at a time on a worker thread: a run already uses every core, and two runs of
one scheme and date must not overlap anyway (the store refuses the second).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.i18n import _
from tierwise.services.grading import Project
from tierwise.services.runs import run, runnable_schemes


@dataclass
class Job:
    """One background run."""

    id: str
    schemes: list[str]
    actor: str
    state: str = "queued"  # queued | running | done | failed
    steps: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def view(self) -> dict[str, Any]:
        """The job as JSON."""
        return {"id": self.id, "schemes": self.schemes, "actor": self.actor, "state": self.state,
                "steps": list(self.steps), "runs": list(self.runs), "error": self.error,
                "started_at": self.started_at}


class Jobs:
    """The background runs of one server process."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-run")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, project: Project, schemes: list[str], *, as_of: date | None, force: bool,
              actor: str) -> Job:
        """Queue a recorded run of ``schemes``.

        Raises:
            SpecError: a scheme name breaks the rule, or the as-of date is out of range.
            NotFoundError: the project has no such scheme.

        """
        # An unknown scheme or an impossible date fails now, not in the background.
        stored = [] if set(schemes) <= set(project.spec.schemes) else runnable_schemes(project)
        for name in schemes:
            if name not in stored:
                project.scheme(name)
        project.as_of(as_of)
        job = Job(uuid.uuid4().hex[:12], schemes, actor)
        with self._lock:
            self._jobs[job.id] = job

        def work() -> None:
            job.state = "running"
            try:
                outcomes = run(project, schemes, as_of=as_of, force=force, actor=actor,
                               progress=job.steps.append)
                job.runs = [{"scheme": o.scheme, "status": o.status, "run_id": o.run.id,
                             "as_of": o.as_of.isoformat(), "notes": o.notes} for o in outcomes]
                job.state = "done"
            except TierwiseError as exc:
                job.error, job.state = str(exc), "failed"
            except Exception as exc:
                job.error, job.state = f"{type(exc).__name__}: {exc}", "failed"

        self._pool.submit(work)
        return job

    def get(self, job_id: str) -> Job:
        """A job by id."""
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None:
            raise NotFoundError(_("no job {job_id!r} in this server process").format(job_id=job_id))
        return found
