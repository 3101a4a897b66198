"""Spark sessions for tierwise, with the settings its results depend on.

Local mode, a standalone cluster, YARN, Kubernetes, or the session a process already has
(``master: session``).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from tierwise.engine import driver_message
from tierwise.errors import EngineError
from tierwise.i18n import _


def spark_session(master: str = "local[2]", config: dict[str, str] | None = None) -> Any:
    """A Spark session configured for tierwise (Arrow on, UI off; loopback only in local mode).

    ``config`` holds the project's ``engine.config`` settings, applied after tierwise's own
    (so ``spark.driver.memory`` or ``spark.sql.shuffle.partitions`` can be changed). A process
    has one Spark session: asking for another master while one runs is refused, not ignored.

    Raises:
        EngineError: when pyspark or Java is missing, with the command that installs it, when
            the master cannot be reached, or when a session on another master is running.
    """
    if master.startswith("local"):
        # Local mode listens on loopback only; a cluster's executors must reach the driver,
        # so there the machine's own address (or spark.driver.host) is used.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            _("engine: spark needs pyspark; install it with `pip install 'tierwise[spark]'` "
              "(and a Java 17 runtime)")
        ) from None
    _check_reachable(master)
    running = SparkContext._active_spark_context
    if master == "session":
        return _running_session(running, config or {})
    if running is not None and running.master != master:
        raise EngineError(_(
            "a Spark session on {running} is already running in this process and a process "
            "has one: run the project with master {master} in a process of its own"
        ).format(running=running.master, master=master))
    warehouse = Path(tempfile.gettempdir()) / "tierwise-spark-warehouse"
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # tierwise reports its own progress
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.memory": "2g",
        **(config or {}),
    }
    jar = _linkage_jar()
    if jar:  # added to the project's own jars, not replaced by them
        settings["spark.jars"] = ",".join(j for j in (settings.get("spark.jars"), jar) if j)
    try:
        builder = SparkSession.builder.master(master).appName("tierwise")
        for key, value in settings.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    except Exception as exc:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise EngineError(
                _("could not start Spark ({exc}); install a Java 17 runtime (Debian: apt-get "
                  "install openjdk-17-jre-headless)").format(exc=exc)
            ) from exc
        raise EngineError(_("could not start a Spark session on {master}: {exc}").format(
            master=master, exc=driver_message(exc))) from exc


# What a session tierwise did not start must have for grades to come out right: dates read in
# UTC, and Arrow between the engine and Python (without it missing text reads as 'NaN').
_SESSION_SETTINGS = {"spark.sql.session.timeZone": "UTC",
                     "spark.sql.execution.arrow.pyspark.enabled": "true"}


def _running_session(running: Any, config: dict[str, str]) -> Any:
    """``master: session``: the session already running in this process.

    A Databricks job or notebook, a pyspark shell; tierwise's runtime settings and ``config``
    are applied to it.

    Raises:
        EngineError: no session runs, or a setting can only be given when a session starts.
    """
    from pyspark.sql import SparkSession

    if running is None:
        raise EngineError(_(
            "master: session uses the Spark session already running in this process (a "
            "Databricks job or notebook, a pyspark shell), and none is running; start one "
            "first, or give a master such as local[2] or spark://host:7077"))
    session = SparkSession.builder.getOrCreate()
    for key, value in {**_SESSION_SETTINGS, **config}.items():
        try:
            session.conf.set(key, value)
        except Exception as exc:
            raise EngineError(_(
                "engine.config: {key} cannot be changed in a running Spark session "
                "({driver_message}); set it where the session is started (the cluster's "
                "Spark configuration)").format(key=key, driver_message=driver_message(exc))
            ) from exc
    return session


def _linkage_jar() -> str | None:
    """The jar of splink's similarity functions, when the ``[linkage]`` extra is installed.

    Record linkage on Spark compares names with Jaro-Winkler and phones with
    Damerau-Levenshtein, which Spark SQL has not: splink ships them as a jar, which must be on
    the classpath when the session starts (it cannot be added later).
    """
    import importlib.util

    if importlib.util.find_spec("splink") is None:
        return None
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


def _check_reachable(master: str) -> None:
    """Refuse a standalone master that does not answer, before Spark retries it for a minute.

    Raises:
        EngineError: none of the master's addresses accepts a connection.
    """
    if not master.startswith("spark://"):
        return
    seen = []
    for address in master.removeprefix("spark://").split(","):
        host, _sep, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=5):
                return
        except OSError as exc:
            seen.append(f"{address} ({exc.strerror or exc})")
    raise EngineError(_(
        "the Spark master {master} does not answer: {seen}; start the master (and a worker), "
        "or correct `engine.master` in tierwise.yaml").format(master=master,
                                                             seen="; ".join(seen)))
