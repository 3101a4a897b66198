"""docs/scheduling.md and the Airflow example: the commands they show exist, and the exit codes hold.

Nothing here imports Airflow: the DAG file is parsed and compiled, its command line and its
as-of macro are read out of the syntax tree, and the command is run for real against tierwise.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shlex
import shutil
import stat
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner, Result

from tierwise.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scheduling.md"
DAG_FILE = ROOT / "examples" / "airflow" / "tierwise_monthly.py"
PLACEHOLDER_DATE = "2026-06-30"  # stands in for a date the shell or Airflow computes
WIDE = {"COLUMNS": "200"}  # help text with one line per option

runner = CliRunner()


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(main.app, [str(a) for a in args], env=env)


# -- reading the DAG without Airflow --------------------------------------------------------------


def dag_tree() -> ast.Module:
    return ast.parse(DAG_FILE.read_text(encoding="utf-8"), filename=str(DAG_FILE))


def constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level NAME = <literal> assignments."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):  # not a literal: not a constant
                    found[target.id] = ast.literal_eval(node.value)
    return found


def call(tree: ast.Module, name: str) -> ast.Call:
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == name]
    assert len(calls) == 1, f"expected one {name}(...) call in {DAG_FILE.name}, found {len(calls)}"
    return calls[0]


def keyword(node: ast.Call, name: str, tree: ast.Module) -> Any:
    """A keyword argument's value: a literal, or a module-level constant's name."""
    for kw in node.keywords:
        if kw.arg == name:
            if isinstance(kw.value, ast.Name):
                return constants(tree)[kw.value.id]
            return ast.literal_eval(kw.value)
    raise AssertionError(f"{DAG_FILE.name}: {ast.unparse(node.func)}(...) has no {name}=")


def dict_entry(node: ast.Call, argument: str, key: str) -> Any:
    """One entry of a dict argument whose other values need not be literals."""
    for kw in node.keywords:
        if kw.arg == argument and isinstance(kw.value, ast.Dict):
            for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == key:
                    return ast.literal_eval(v)
    raise AssertionError(f"{DAG_FILE.name}: no {argument}[{key!r}]")


def month_end_macro(timezone: str | None = None) -> Any:
    """The DAG's graded_month_end, executed with its standard-library imports only."""
    tree = dag_tree()
    keep: list[ast.stmt] = []
    for node in tree.body:
        stdlib = isinstance(node, ast.ImportFrom) and node.module in ("__future__", "datetime",
                                                                      "zoneinfo")
        if stdlib or (isinstance(node, ast.FunctionDef) and node.name == "graded_month_end"):
            keep.append(node)
    namespace: dict[str, Any] = {"TIMEZONE": timezone or constants(tree)["TIMEZONE"]}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(DAG_FILE), "exec"), namespace)
    return namespace["graded_month_end"]


def render(template: str, params: dict[str, str]) -> str:
    """Render the Jinja expressions the DAG uses; any other expression fails the test."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if m := re.fullmatch(r"params\.(\w+)", expr):
            return params[m.group(1)]
        if expr == "graded_month_end(data_interval_end)":
            return PLACEHOLDER_DATE
        raise AssertionError(f"template expression {{{{ {expr} }}}} is not known to this test")

    return re.sub(r"\{\{(.*?)\}\}", one, template)


# -- command lines out of shell text ----------------------------------------------------------


def without_substitutions(text: str) -> str:
    """Replace each $(...) command substitution (nested ones included) by a date."""
    out, i = [], 0
    while (start := text.find("$(", i)) >= 0:
        depth, j = 0, start + 1
        while True:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
            j += 1
        out.append(text[i:start] + PLACEHOLDER_DATE)
        i = j + 1
    return "".join(out) + text[i:]


def tierwise_argvs(line: str) -> list[list[str]]:
    """Every `tierwise ...` command in a shell line, up to the next shell operator."""
    lexer = shlex.shlex(without_substitutions(line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    found: list[list[str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if any(c.isspace() for c in token):  # e.g. the script of sh -c '...'
            found.extend(tierwise_argvs(token))
        elif Path(token).name == "tierwise":
            argv = [token]
            i += 1
            while i < len(tokens) and not set(tokens[i]) <= set("();<>|&"):
                argv.append(tokens[i])
                i += 1
            found.append(argv)
            continue
        i += 1
    return found


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S)


def doc_argvs() -> list[tuple[int, list[str]]]:
    """The tierwise commands in the fenced code blocks of docs/scheduling.md, by line number."""
    params = keyword(call(dag_tree(), "DAG"), "params", dag_tree())
    found = []
    lang: str | None = None  # inside a fenced block: its language
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            lang = line[3:].strip() if lang is None else None
            continue
        if lang is None:
            continue
        line = render(line, params)
        if lang == "ini":
            if not line.startswith("Exec"):
                continue
            line = line.split("=", 1)[1].replace("%%", "%").replace("$$", "$")
        elif lang == "crontab":
            line = line.replace("\\%", "%")
        found.extend((number, argv) for argv in tierwise_argvs(line))
    return found


def check_argv(argv: list[str]) -> tuple[str, ...]:
    """Assert a tierwise command line names commands and options that exist, used as defined.

    Returns the command path, e.g. ("runs", "list").
    """
    assert Path(argv[0]).name == "tierwise", argv
    command: Any = typer.main.get_command(main.app)  # typer's click command tree
    path: list[str] = []
    root_options: list[str] = []
    rest = argv[1:]
    while hasattr(command, "commands"):  # a group: the next word names a command
        assert rest, f"{shlex.join(argv)}: no command after {' '.join(['tierwise', *path])}"
        token, rest = rest[0], rest[1:]
        if token.startswith("-"):
            root_options.append(token)
            continue
        assert token in command.commands, (
            f"{shlex.join(argv)}: no command {token!r} in tierwise {' '.join(path)}; "
            f"commands: {', '.join(command.commands)}")
        path.append(token)
        command = command.commands[token]
    for where, options in (((), root_options),
                           (tuple(path), [t.split("=")[0] for t in rest if t.startswith("-")])):
        shown = invoke(*where, "--help", env=WIDE)
        assert shown.exit_code == 0, shown.output
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", shown.output), (
                f"{shlex.join(argv)}: `tierwise {' '.join(where)} --help` shows no {option}")
    try:  # the options parse as defined: values given, required ones present, types right
        command.make_context(path[-1], list(rest))
    except Exception as exc:  # a usage error, from click or the copy of it typer carries
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise AssertionError(f"{shlex.join(argv)}: {message}") from None
    return tuple(path)


# -- projects ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each project keeps its own SQLite store, whatever store the shell running pytest names."""
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The starter project (`tierwise init`): schemes value and rfm, as of 2026-06-30."""
    folder = tmp_path / "retail"
    result = invoke("init", folder)
    assert result.exit_code == 0, result.output
    return folder


def grade_files(folder: Path) -> list[Path]:
    return sorted((folder / "output").glob("*/runs/*/grades.parquet"))


# -- the DAG ----------------------------------------------------------------------------------


def test_dag_file_is_valid_python_without_airflow() -> None:
    source = DAG_FILE.read_text(encoding="utf-8")
    compile(source, str(DAG_FILE), "exec")
    imported = {n.module for n in ast.walk(dag_tree()) if isinstance(n, ast.ImportFrom)}
    assert "airflow.operators.bash" in imported  # an Airflow DAG, not a look-alike


def test_dag_runs_monthly_in_order_and_skips_on_exit_3() -> None:
    tree = dag_tree()
    dag, task = call(tree, "DAG"), call(tree, "BashOperator")
    minute, hour, day, month, weekday = keyword(dag, "schedule", tree).split()
    assert (minute, hour, day, month, weekday) == ("0", "2", "1", "*", "*")  # as cron, systemd
    assert keyword(dag, "catchup", tree) is True
    assert keyword(dag, "max_active_runs", tree) == 1
    assert dict_entry(dag, "default_args", "depends_on_past") is True
    assert main.EXIT_SKIPPED == 3
    assert keyword(task, "skip_on_exit_code", tree) == main.EXIT_SKIPPED


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "UTC", "America/New_York"])
@pytest.mark.parametrize("hour", [0, 2])
def test_dag_as_of_is_the_last_day_of_the_graded_month(timezone: str, hour: int) -> None:
    month_end = month_end_macro(timezone)
    for year, month in [(2026, m) for m in range(1, 13)] + [(2028, 3)]:
        # Airflow gives templates data_interval_end in UTC; the interval ends on the 1st, local.
        interval_end = datetime(year, month, 1, hour, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
        expected = date(year, month, 1) - timedelta(days=1)  # 2028-03-01 - 1 day = 2028-02-29
        assert month_end(interval_end) == expected.isoformat(), (timezone, interval_end)


def test_dag_command_uses_existing_options_and_runs(project: Path) -> None:
    tree = dag_tree()
    params = keyword(call(tree, "DAG"), "params", tree)
    template = keyword(call(tree, "BashOperator"), "bash_command", tree)
    [argv] = tierwise_argvs(render(template, params))
    assert check_argv(argv) == ("run",)
    assert argv[argv.index("--as-of") + 1] == PLACEHOLDER_DATE  # the macro's date lands here
    # The DAG's own command line, pointed at a real project: done, then skipped.
    argv[argv.index("-p") + 1] = str(project)
    first = invoke(*argv[1:])
    assert first.exit_code == 0, first.output
    again = invoke(*argv[1:])
    assert again.exit_code == main.EXIT_SKIPPED == keyword(call(tree, "BashOperator"),
                                                            "skip_on_exit_code", tree)
    assert "already done" in again.output
    listed = invoke("runs", "list", "value", "-p", project, env=WIDE)
    assert re.search(r"\bairflow\b", listed.output), listed.output


# -- the documentation ------------------------------------------------------------------------


DOC_ARGVS = doc_argvs()


@pytest.mark.parametrize(("line", "argv"), DOC_ARGVS,
                         ids=[f"line {n}: {shlex.join(a[1:])}" for n, a in DOC_ARGVS])
def test_doc_command_uses_existing_commands_and_options(line: int, argv: list[str]) -> None:
    check_argv(argv)


def test_doc_shows_the_commands_a_scheduler_needs() -> None:
    shown = {check_argv(argv) for _, argv in DOC_ARGVS}
    assert {("run",), ("backfill",), ("runs", "list"), ("runs", "show"), ("audit", "list"),
            ("audit", "verify")} <= shown
    options = {t for _, argv in DOC_ARGVS for t in argv if t.startswith("-")}
    assert {"--as-of", "--force", "--all", "--from", "--to", "--every", "--actor"} <= options


def test_doc_shows_the_dag_command_verbatim() -> None:
    tree = dag_tree()
    template = keyword(call(tree, "BashOperator"), "bash_command", tree)
    assert template in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv", [
    ["tierwise", "schedule", "value"],
    ["tierwise", "run", "value", "--every", "month"],
    ["tierwise", "backfill", "value", "--from", "2026-01-01"],
    ["tierwise", "runs", "list", "value", "--limit", "5"],
    ["tierwise", "--verbose", "run", "value"],
])
def test_the_checker_rejects_what_the_cli_does_not_have(argv: list[str]) -> None:
    with pytest.raises(AssertionError):
        check_argv(argv)


def exit_code_table() -> dict[int, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]
    return {int(r[0]): r[1] for r in rows if r[0].isdigit()}


def test_doc_exit_codes_are_the_cli_exit_codes(project: Path) -> None:
    table = exit_code_table()
    assert table == {0: "done", 3: "skipped", 1: "failed", 2: "bad spec or usage"}
    # The starter's orders run until 2026-06-29: grading March fails the data checks.
    failed = invoke("run", "value", "-p", project, "--as-of", "2026-03-31")
    assert table[failed.exit_code] == "failed", failed.output
    assert "after the as-of date" in failed.output
    assert grade_files(project) == []  # nothing of the failed run is visible
    again = invoke("run", "value", "-p", project, "--as-of", "2026-03-31")
    assert again.exit_code == failed.exit_code, again.output  # the same failure, no stuck run
    usage = invoke("run", "value", "-p", project, "--as-of", "2026-13-01")
    assert table[usage.exit_code] == "bad spec or usage", usage.output
    done = invoke("run", "value", "rfm", "-p", project)
    assert table[done.exit_code] == "done", done.output
    skipped = invoke("run", "value", "rfm", "-p", project)
    assert skipped.exit_code == main.EXIT_SKIPPED and table[skipped.exit_code] == "skipped"
    forced = invoke("run", "value", "-p", project, "--force")
    assert table[forced.exit_code] == "done", forced.output
    assert len(grade_files(project)) == 3  # value, rfm, value again


def test_a_run_beside_a_live_run_of_the_same_date_fails_clearly(project: Path) -> None:
    from tierwise.services.grading import Project
    from tierwise.services.runs import open_store
    from tierwise.store import runs as store_runs
    from tierwise.store import schemes as store_schemes

    assert invoke("run", "value", "-p", project).exit_code == 0
    store = open_store(Project.open(project))
    try:
        with store.begin() as conn:
            version = store_schemes.active_version(conn, "value", date(2026, 7, 31))
            assert version is not None
            # A running row of this (live) process: another run of 2026-07-31 in progress.
            store_runs.start(conn, "value", version_id=version.id, as_of=date(2026, 7, 31),
                             official=True, forced=False, actor="cron")
    finally:
        store.close()
    beside = invoke("run", "value", "-p", project, "--as-of", "2026-07-31")
    assert beside.exit_code == 1
    assert "as of 2026-07-31 is in progress (started by cron" in " ".join(beside.output.split())


def test_a_run_records_who_started_it(project: Path) -> None:
    assert invoke("run", "value", "-p", project, env={"TIERWISE_USER": "cron"}).exit_code == 0
    assert invoke("run", "value", "-p", project, "--as-of", "2026-07-31",
                  "--actor", "ops").exit_code == 0
    listed = invoke("runs", "list", "value", "-p", project, env=WIDE).output
    by = re.findall(r"(2026-\d\d-\d\d)\s.*?\b(cron|ops)\b", listed)
    assert by == [("2026-06-30", "cron"), ("2026-07-31", "ops")], listed


# -- cron and systemd: the shell parts, with a stand-in for tierwise --------------------------


def gnu_date() -> bool:
    try:
        return "GNU" in subprocess.run(["date", "--version"], capture_output=True,
                                       text=True).stdout
    except OSError:
        return False


needs_gnu_date = pytest.mark.skipif(not gnu_date(), reason="the docs' date arithmetic is GNU date")


@pytest.fixture
def fake_tierwise(tmp_path: Path) -> tuple[Path, Path]:
    """A `tierwise` that records its arguments and exits with $FAKE_EXIT."""
    record = tmp_path / "argv"
    script = tmp_path / "bin" / "tierwise"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(record))}\n'
                      'exit "$FAKE_EXIT"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


def last_month_end() -> str:
    return (date.today().replace(day=1) - timedelta(days=1)).isoformat()


def shell(command: str, exit_code: int) -> int:
    env = {**os.environ, "FAKE_EXIT": str(exit_code)}
    return subprocess.run(["/bin/sh", "-c", command], env=env, check=False).returncode


def blocks(lang: str) -> list[str]:
    return [body for kind, body in fenced_blocks(DOC.read_text(encoding="utf-8"))
            if kind == lang]


@needs_gnu_date
def test_cron_line_grades_last_month_end_and_counts_skipped_as_success(
        tmp_path: Path, fake_tierwise: tuple[Path, Path]) -> None:
    [entry] = [line for body in blocks("crontab") for line in body.splitlines()
               if re.match(r"^[\d*]", line)]
    minute, hour, day, month, weekday, command = entry.split(maxsplit=5)
    assert (minute, hour, day, month, weekday) == ("0", "2", "1", "*", "*")
    assert "%" not in command.replace("\\%", ""), "cron turns a bare % into a newline"
    script, record = fake_tierwise
    command = re.sub(r"\S*/tierwise(?=\s)", str(script), command.replace("\\%", "%"), count=1)
    command = re.sub(r">>\s*\S+", f">>{tmp_path / 'cron.log'}", command)
    # The line succeeds when tierwise is done or skipped, and fails when tierwise fails.
    succeeded = {code: shell(command, code) == 0 for code in (0, main.EXIT_SKIPPED, 1, 2)}
    assert succeeded == {0: True, main.EXIT_SKIPPED: True, 1: False, 2: False}
    argv = record.read_text().splitlines()
    assert argv[argv.index("--as-of") + 1] == last_month_end()


@needs_gnu_date
def test_systemd_units_grade_last_month_end_and_count_skipped_as_success(
        tmp_path: Path, fake_tierwise: tuple[Path, Path]) -> None:
    [service] = [b for b in blocks("ini") if "[Service]" in b]
    [timer] = [b for b in blocks("ini") if "[Timer]" in b]
    settings = dict(line.split("=", 1) for body in (service, timer)
                    for line in body.splitlines() if "=" in line)
    assert settings["SuccessExitStatus"] == str(main.EXIT_SKIPPED)
    assert settings["Persistent"] == "true"
    assert settings["Type"] == "oneshot"
    analyze = shutil.which("systemd-analyze")
    if analyze:
        (tmp_path / "tierwise-monthly.service").write_text(service)
        (tmp_path / "tierwise-monthly.timer").write_text(timer)
        checked = subprocess.run([analyze, "verify", "tierwise-monthly.service",
                                  "tierwise-monthly.timer"], cwd=tmp_path, capture_output=True,
                                 text=True)
        assert checked.returncode == 0, checked.stderr
        calendar = subprocess.run([analyze, "calendar", settings["OnCalendar"]],
                                  capture_output=True, text=True)
        assert "-01 02:00:00" in calendar.stdout, calendar.stdout + calendar.stderr
    # ExecStart as systemd reads it: %% and $$ are literal % and $, quotes group words.
    shell_argv = shlex.split(settings["ExecStart"].replace("%%", "%").replace("$$", "$"))
    assert shell_argv[:2] == ["/bin/sh", "-c"]
    script, record = fake_tierwise
    command = re.sub(r"\S*/tierwise(?=\s)", str(script), shell_argv[2], count=1)
    # exec: tierwise's own exit code reaches systemd, which SuccessExitStatus=3 maps to success
    assert shell(command, main.EXIT_SKIPPED) == main.EXIT_SKIPPED
    argv = record.read_text().splitlines()
    assert argv[argv.index("--as-of") + 1] == last_month_end()
