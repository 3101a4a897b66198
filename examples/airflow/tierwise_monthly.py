"""Grade customers every month with tierwise: an Airflow 2 DAG (Airflow 2.6 or later).

Each DAG run grades the month that just ended, as of its last day, with
``tierwise run value rfm -p PROJECT --as-of YYYY-MM-DD``. tierwise records every run in the
project's store and exits 3 when every scheme was already done for the date; that exit code makes
the task *skipped* rather than failed, so a retry or a repeated catch-up is harmless. See
docs/scheduling.md for the exit codes, cron and systemd.

Copy this file into the DAGs folder and set ``TIMEZONE`` and ``params`` (the tierwise executable,
which may live in a virtual environment of its own, and the project folder). The task inherits the
worker's environment: set ``TIERWISE_STORE_URL`` there (a PostgreSQL store when there is more than
one worker). This file is compiled and checked by tests/cli/test_schedule_docs.py without Airflow
installed; keep the command a plain string so the test can read it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

# The month boundaries and the 02:00 start are counted in this time zone.
TIMEZONE = "Asia/Shanghai"
# tierwise run's exit code when every scheme named was already done for the date.
EXIT_SKIPPED = 3


def graded_month_end(interval_end: datetime) -> str:
    """The last day of the month a DAG run grades, as YYYY-MM-DD.

    A monthly DAG run covers the month just ended and starts when it ends, so the month it grades
    ends the day before ``data_interval_end``, counted in the DAG's time zone. Airflow hands
    templates their dates in UTC, so ``{{ data_interval_end | ds }}`` is the UTC date the interval
    ends: the 1st of the next month on UTC, the last day of the month east of UTC only by accident
    of the offset. It is not the as-of date.

    Args:
        interval_end: the run's ``data_interval_end`` (a time-zone aware date-time).

    Returns:
        The as-of date, e.g. ``2026-06-30`` for the run that starts on 2026-07-01 at 02:00.

    """
    local = datetime.fromtimestamp(interval_end.timestamp(), ZoneInfo(TIMEZONE))
    return (local.date() - timedelta(days=1)).isoformat()


with DAG(
    dag_id="tierwise_monthly",
    description="Grade customers as of the last month end with tierwise",
    # 02:00 on the 1st of every month, in TIMEZONE: the same moment as the cron and systemd jobs.
    schedule="0 2 1 * *",
    # The first run starts on 2026-02-01 and grades January 2026. With catchup, Airflow creates a
    # run for every month since; grade the months before with one `tierwise backfill`.
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=True,
    # History is built forward: each month's stability policy reads the month before, and
    # tierwise refuses a date earlier than the latest official run. One run at a time, in order.
    max_active_runs=1,
    default_args={
        # A month waits until the month before it is done (or skipped, already done).
        "depends_on_past": True,
        # A failed run leaves nothing behind, so a retry is safe; it also outlasts another run of
        # the same date that is still in progress (tierwise refuses to run beside it, exit 1).
        "retries": 2,
        "retry_delay": timedelta(minutes=15),
    },
    params={
        "tierwise": "/opt/tierwise/.venv/bin/tierwise",
        "project": "/srv/tierwise/retail",
    },
    user_defined_macros={"graded_month_end": graded_month_end},
    tags=["tierwise"],
):
    BashOperator(
        task_id="grade",
        bash_command=(
            '{{ params.tierwise }} run value rfm -p "{{ params.project }}"'
            " --as-of {{ graded_month_end(data_interval_end) }} --actor airflow"
        ),
        # Exit code 3 (already done for the date) leaves the task skipped, not failed.
        # Airflow 2.4 and 2.5 name this parameter skip_exit_code.
        skip_on_exit_code=EXIT_SKIPPED,
    )
