"""Start or stop a standalone Spark cluster (one master, one worker) on this machine.

    .venv/bin/python scripts/spark_cluster.py start DIR [--cores 2] [--memory 2g]
    .venv/bin/python scripts/spark_cluster.py stop DIR

``start`` runs the master and the worker of the installed pyspark distribution (its
``bin/spark-class``; no separate Spark download), both listening on 127.0.0.1 on free ports,
waits until the worker has registered, writes their process ids and logs into DIR and prints
the master's URL (``spark://127.0.0.1:PORT``), the value of ``engine.master``. ``stop`` ends
both. The tests start one for the cluster suite (``tests/engines/test_cluster.py``) and the
Spark benchmark uses one (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

WAIT = 120  # seconds for the master to start and the worker to register


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package."""
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(folder: Path, name: str, args: list[str]) -> int:
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(folder)}
    log = (folder / f"{name}.log").open("wb")
    # A session of its own: `stop` ends the JVM and anything it started, and a test run that
    # is interrupted does not take the cluster down half-way through a stop.
    process = subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *args], env=env,
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    (folder / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def _status(ui: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as answer:
            return dict(json.load(answer))
    except OSError:
        return None


def start(folder: Path, cores: int, memory: str) -> str:
    """Start the master and a worker; return the master's URL once the worker is alive."""
    folder.mkdir(parents=True, exist_ok=True)
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    _launch(folder, "master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)])
    deadline = time.monotonic() + WAIT
    while _status(ui) is None:
        if time.monotonic() > deadline:
            stop(folder)
            raise SystemExit(f"the Spark master did not start in {WAIT} s; see "
                             f"{folder / 'master.log'}")
        time.sleep(0.5)
    _launch(folder, "worker", ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                               "--cores", str(cores), "--memory", memory, "--webui-port", "0",
                               "--work-dir", str(folder / "work"), url])
    while not (_status(ui) or {}).get("aliveworkers"):
        if time.monotonic() > deadline:
            stop(folder)
            raise SystemExit(f"the Spark worker did not register in {WAIT} s; see "
                             f"{folder / 'worker.log'}")
        time.sleep(0.5)
    (folder / "master.url").write_text(url)
    return url


def stop(folder: Path) -> None:
    """End the worker, then the master (each process group), and wait for them to go."""
    for name in ("worker", "master"):
        pid_file = folder / f"{name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink()
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()


def main(argv: list[str] | None = None) -> int:
    """The command line: ``start DIR`` or ``stop DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", type=Path, help="folder for the process ids, logs and work files")
    parser.add_argument("--cores", type=int, default=2, help="cores the worker offers")
    parser.add_argument("--memory", default="2g", help="memory the worker offers (e.g. 8g)")
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.dir, args.cores, args.memory))
    else:
        stop(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
