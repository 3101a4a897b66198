"""Faults a new user met in the commands (issue 13, item 7), each pinned by a test."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tierwise.cli import main
from tierwise.services.demo import examples_dir
from tierwise.services.project import Project
from tierwise.services.runs import open_store
from tierwise.spec import load_project

runner = CliRunner()


def invoke(*args: str | Path) -> Result:
    return runner.invoke(main.app, [str(a) for a in args])


def flat(text: str) -> str:
    """Output with runs of whitespace (line wraps, table padding) made single spaces."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")


def test_explain_inside_the_project_after_a_run_with_a_relative_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "shop").exit_code == 0
    ran = invoke("run", "value", "-p", "shop")
    assert ran.exit_code == 0, ran.output
    monkeypatch.chdir(tmp_path / "shop")
    explained = invoke("explain", "C000001", "-s", "value")
    assert explained.exit_code == 0, explained.output
    assert "C000001 in value as of 2026-06-30" in flat(explained.output)
    # The run's folder is recorded whole, so every later reader finds it from anywhere.
    store = open_store(Project.open("."))
    try:
        with store.read() as tx:
            folder = tx.runs.get(1).folder
    finally:
        store.close()
    assert folder == str(tmp_path / "shop" / "output" / "value" / "runs" / "1")


def test_explain_says_which_run_files_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store written before run folders were recorded whole holds a folder relative to the
    # working folder of that run: explaining from elsewhere says so instead of a DuckDB trace.
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "shop").exit_code == 0
    assert invoke("run", "value", "-p", "shop").exit_code == 0
    with sqlite3.connect(tmp_path / "shop" / ".tierwise" / "store.db") as conn:
        conn.execute("UPDATE runs SET folder = 'shop/output/value/runs/1' WHERE id = 1")
    monkeypatch.chdir(tmp_path / "shop")
    explained = invoke("explain", "C000001", "-s", "value")
    assert explained.exit_code == 1
    assert explained.exception is None or isinstance(explained.exception, SystemExit)
    assert ("the files of run 1 (value as of 2026-06-30) are not at "
            "'shop/output/value/runs/1'") in flat(explained.output)
    assert "tierwise run value --as-of 2026-06-30 --force" in flat(explained.output)


def test_audit_verify_prints_the_first_broken_event_readably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "shop").exit_code == 0
    assert invoke("run", "value", "-p", "shop").exit_code == 0
    intact = invoke("audit", "verify", "-p", "shop")
    assert intact.exit_code == 0 and "audit log intact:" in intact.output
    with sqlite3.connect(tmp_path / "shop" / ".tierwise" / "store.db") as conn:
        conn.execute("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
    broken = invoke("audit", "verify", "-p", "shop")
    assert broken.exit_code == 1
    out = flat(broken.output)
    assert "AuditProblem(" not in out and "kind=" not in out
    assert "the first broken event is seq 2 (edited)" in out
    assert "seq 2, edited: audit event seq 2 was edited after it was written" in out
    chinese = invoke("audit", "verify", "-p", "shop", "--lang", "zh")
    assert chinese.exit_code == 1
    assert "第一条损坏的事件序号为 2（被篡改）" in flat(chinese.output)
    # The next command without --lang speaks the project's language again, not the last one's.
    assert "the first broken event is seq 2" in flat(invoke("audit", "verify", "-p", "shop").output)


def test_serve_help_says_what_is_served_where_and_how_to_log_in() -> None:
    shown = invoke("serve", "--help")
    assert shown.exit_code == 0
    out = flat(shown.output)
    assert "web dashboard and the REST API" in out
    assert "http://127.0.0.1:8000/" in out
    assert "Log in there with a user of the project's store" in out
    assert "tierwise user add NAME --role admin" in out
    assert "POST /api/v1/auth/login" in out and "tierwise user token NAME" in out


def test_serve_prints_where_the_dashboard_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    assert invoke("init", tmp_path).exit_code == 0
    started = invoke("serve", "-p", tmp_path, "--port", "8123")
    assert started.exit_code == 0, started.output
    assert served and served[0]["port"] == 8123
    out = flat(started.output)
    assert "dashboard: http://127.0.0.1:8123/ (log in with a user" in out
    assert "REST API: http://127.0.0.1:8123/api/v1" in out


def test_serve_without_its_extra_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    started = invoke("serve", "-p", tmp_path)
    assert started.exit_code == 1
    said = flat(started.output + capsys.readouterr().err)
    assert "uvicorn is missing" in said and "pip install 'tierwise[server]'" in said, said


def test_init_header_states_what_was_written_and_commands_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = invoke("init", tmp_path / "shop")
    assert made.exit_code == 0, made.output
    text = (tmp_path / "shop" / "tierwise.yaml").read_text(encoding="utf-8")
    header = text[:text.index("\n\n")]
    words = flat(header.replace("\n#", "\n"))
    customers = (tmp_path / "shop" / "data" / "customers.csv").read_text().splitlines()
    orders = (tmp_path / "shop" / "data" / "orders.csv").read_text().splitlines()
    dates = sorted(line.split(",")[2] for line in orders[1:])
    assert f"data/customers.csv {len(customers) - 1:,} customers " in words
    assert (f"data/orders.csv {len(orders) - 1:,} orders and refunds, dated {dates[0]} to "
            f"{dates[-1]} ") in words
    assert "5,000" not in header and "examples/retail" not in header
    assert f"{len(customers) - 1:,} customers, {len(orders) - 1:,} orders" in flat(made.output)
    commands = [line.removeprefix("#").split("   ")[1].split()
                for line in header.splitlines() if line.startswith("#   tierwise ")]
    assert [c[1] for c in commands] == ["validate", "check", "run", "explain"]
    monkeypatch.chdir(tmp_path / "shop")
    for command in commands:
        result = invoke(*command[1:])
        assert result.exit_code == 0, (command, result.output)


@pytest.mark.parametrize("name", ["retail", "bank", "b2b"])
def test_example_headers_name_commands_the_cli_takes(name: str) -> None:
    # `tierwise run examples/retail` was named: run takes scheme names, the folder is -p.
    text = (examples_dir() / name / "tierwise.yaml").read_text(encoding="utf-8")
    header = " ".join(line.lstrip("# ") for line in text[:text.index("\n\n")].splitlines())
    commands = re.findall(r"`(tierwise [^`]+)`", header)
    assert any(c.startswith("tierwise run ") for c in commands)
    schemes = set(load_project(examples_dir() / name)[0].schemes)
    for command in commands:
        words = command.split()[1:]
        if words[0] != "run":
            continue
        args = [w for i, w in enumerate(words[1:]) if not w.startswith("-")
                and not (i and words[i].startswith("-p"))]
        assert set(args) <= schemes and ("--all" in words or args), command
        assert "-p" in words and words[words.index("-p") + 1] == f"tierwise-demo/{name}"


def test_backfill_reports_skipped_dates_per_scheme(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # value is done as of 2026-06-30, rfm never ran: the backfill grades rfm for that date,
    # and says so, instead of "1 dates: 1 runs done, 1 skipped (already done)".
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "shop").exit_code == 0
    assert invoke("run", "value", "-p", "shop").exit_code == 0
    filled = invoke("backfill", "value", "rfm", "--from", "2026-05-01", "--to", "2026-06-30",
                    "-p", "shop", "--force")
    assert filled.exit_code == 0, filled.output
    out = flat(filled.output)
    assert "value: 2 dates graded: 2026-05-31, 2026-06-30" in out
    assert "rfm: 2 dates graded: 2026-05-31, 2026-06-30" in out
    again = invoke("backfill", "value", "rfm", "rfm_cn", "--from", "2026-06-01", "--to",
                   "2026-06-30", "-p", "shop")
    out = flat(again.output)
    assert again.exit_code == 0, again.output
    assert "value: 1 date skipped, already done: 2026-06-30 (run 4); --force runs it again" in out
    assert "rfm: 1 date skipped, already done: 2026-06-30 (run 5)" in out
    assert "rfm_cn: 1 date graded: 2026-06-30" in out
    assert "skipped" not in out.split("rfm_cn:")[1]


_BLOCKER = '''
import sys


class _WithoutML:
    """Imports of the [ml] extra's packages (and splink, of [linkage]) fail, as after a plain
    `pip install tierwise`."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("scipy", "sklearn", "matplotlib", "skops", "splink"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _WithoutML())
'''


@pytest.mark.slow
def test_demo_without_the_ml_extra_runs_what_it_can(tmp_path: Path) -> None:
    blocker = tmp_path / "without-ml"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(_BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(blocker), "COLUMNS": "200", "TIERWISE_LANG": "en"}
    env.pop("TIERWISE_STORE_URL", None)
    probe = subprocess.run([sys.executable, "-c", "import scipy"], env=env, capture_output=True,
                           text=True, check=False)
    assert probe.returncode == 1 and "No module named 'scipy'" in probe.stderr
    demo = subprocess.run(
        [sys.executable, "-c", "from tierwise.cli.main import main; main()", "demo", "--folder",
         str(tmp_path / "demo"), "--customers", "200"],
        env=env, capture_output=True, text=True, check=False, cwd=tmp_path, timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = flat(demo.stdout)
    assert "ModuleNotFoundError" not in out + demo.stderr
    for ran in ("value (rules) as of 2026-06-30", "rfm (rfm)", "rfm_cn (rfm)",
                "asset_tiers (rules)", "abc (abc)", "grade (scorecard)", "Data-quality report"):
        assert ran in out, ran
    assert ("retail: not run, they need scipy, scikit-learn: clv (method clv), clusters (method "
            "cluster), evaluation; install with pip install 'tierwise[ml]'") in out
    assert "install them with pip install 'tierwise[ml]', then run `tierwise demo` again" in out
    assert ("linked: not run, they need splink: tierwise link run, value; install with pip "
            "install 'tierwise[linkage]'") in out
    assert "install them with pip install 'tierwise[linkage]', then run" in out
    assert "clv (clv) as of" not in out and "clusters (cluster) as of" not in out
