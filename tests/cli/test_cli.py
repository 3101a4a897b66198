"""The command line end to end: exit codes, problem lists, reports and summaries as printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from tests.conftest import write
from tierwise import i18n
from tierwise.cli import main
from tierwise.demo import DirtyRow, write_dirty_retail
from tierwise.services.demo import copy_example
from tierwise.services.explain_run import explain
from tierwise.services.grading import Project
from tierwise.spec import load_project

runner = CliRunner()


@pytest.fixture(autouse=True)
def terminal_80(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An 80-column terminal, whatever COLUMNS was when the CLI module was imported."""
    # The consoles (tierwise.cli.common) read COLUMNS each time they print.
    monkeypatch.setenv("COLUMNS", "80")
    yield


def invoke(*args: str | Path) -> Result:
    return runner.invoke(main.app, [str(a) for a in args])


def flat(text: str) -> str:
    """Output with runs of whitespace (line wraps, table padding) made single spaces."""
    return " ".join(text.split())


def fields(output: str) -> dict[str, str]:
    """A two-column table as {field: value}, the lines of a wrapped value joined by a space."""
    cells: dict[str, str] = {}
    field = ""
    for line in output.splitlines():
        if line.startswith("│"):
            _, first, second, _ = line.split("│")
            if first.strip():
                field = first.strip()
                cells[field] = second.strip()
            else:
                cells[field] += " " + second.strip()
    return cells


BROKEN = """
name: shop
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
  transactions:
    path: orders.csv
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
indicators:
  orders_12m: {source: transactions, agg: count, window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, when: "orders_12n >= 10"}
      - {key: other}
    fallback: othr
"""


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "tierwise.yaml", BROKEN)
    result = invoke("validate", "-p", tmp_path)
    assert result.exit_code == 2, result.output
    out = flat(result.output)
    # The transactions source lacks `time:`, a rule tests a typo, the fallback names no tier.
    assert "3 problems" in out
    assert "event source 'transactions' needs `time:`" in out
    assert "unknown name 'orders_12n'" in out and "did you mean 'orders_12m'?" in out
    assert "fallback 'othr' is not a tier key" in out
    assert "tierwise.yaml:" in out  # each problem carries its file:line
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DirtyRow]]:
    folder = tmp_path_factory.mktemp("retail-dirty")
    copy_example("retail", folder)
    cases = write_dirty_retail(folder / "data", customers=300)
    return folder, cases


def test_check_reports_each_problem_with_a_sample_row(dirty: tuple[Path, list[DirtyRow]]) -> None:
    folder, cases = dirty
    result = invoke("check", "-p", folder)
    assert result.exit_code == 1, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    for case in cases:
        assert case.check in result.output, case
        # The sample row of the case, on one line of its own (not squeezed into a column).
        assert any(line.startswith(f"row {case.row}: {case.column} ") for line in lines), case
    assert "row 19: amount '12,5' is not a valid decimal" in lines


def test_check_shows_brackets_in_data_as_written(dirty: tuple[Path, list[DirtyRow]]) -> None:
    folder, _ = dirty
    orders = folder / "data" / "orders.csv"
    text = orders.read_text(encoding="utf-8")
    # Row 19 holds the amount 12,5; make it look like Rich markup.
    broken = text.replace('"12,5"', '"[bold]12,5"').replace(",12,5,", ",[bold]12,5,")
    assert broken != text
    copy = folder.parent / "retail-dirty-markup"
    copy_example("retail", copy)
    (copy / "data").mkdir()
    (copy / "data" / "customers.csv").write_bytes((folder / "data" / "customers.csv").read_bytes())
    (copy / "data" / "orders.csv").write_text(broken, encoding="utf-8")
    result = invoke("check", "-p", copy)
    assert result.exit_code == 1, result.output
    assert "amount '[bold]12,5' is not a valid decimal" in result.output


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """A project from `tierwise init`, then `tierwise run value --lang zh` on it."""
    folder = tmp_path_factory.mktemp("starter")
    created = runner.invoke(main.app, ["init", str(folder)])
    assert created.exit_code == 0, created.output
    ran = runner.invoke(main.app, ["run", "value", "-p", str(folder), "--lang", "zh"])
    return folder, ran


def test_run_prints_a_summary_with_chinese_labels(starter: tuple[Path, Result]) -> None:
    folder, result = starter
    assert result.exit_code == 0, result.output
    spec, _ = load_project(folder)
    tiers = spec.schemes["value"].tiers
    out = result.stdout
    for tier in tiers:
        assert tier.label_text("zh") in out, tier.key
        assert tier.label_text("en") not in out, tier.key
    # In the language asked for: the title, its date and count too (it was English before).
    assert "value（rules），截止 2026年6月30日：300 位客户" in flat(out)
    assert "…" not in out  # in 80 columns nothing is cut short, labels and numbers included
    assert "grades.parquet" in out


def test_explain_prints_reasons_and_gap(starter: tuple[Path, Result]) -> None:
    folder, ran = starter
    assert ran.exit_code == 0, ran.output
    project = Project.open(folder)
    # The first customers in id order until one has a tier above to reach.
    ids = pq.read_table(next((folder / "output" / "value").glob("runs/*/grades.parquet")))
    for customer in ids["customer_id"].to_pylist()[:50]:
        # In English, as the command below speaks: `run --lang zh` left Chinese current in
        # this process, and reasons and gaps are rendered in the current language.
        with i18n.use("en"):
            grade = explain(project, "value", customer).grade
        if grade["gap"]:
            break
    else:
        pytest.fail("no customer among the first 50 has a gap")
    result = invoke("explain", customer, "-s", "value", "-p", folder)
    assert result.exit_code == 0, result.output
    assert f"{customer} in value as of 2026-06-30" in result.output
    cells = fields(result.output)
    assert cells["reasons"] == grade["reasons"]
    assert cells["next tier"] == grade["gap"]
    assert cells["tier"].startswith(f"{grade['tier']} (")


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert invoke("init", tmp_path).exit_code == 0
    yaml = tmp_path / "tierwise.yaml"
    yaml.write_text("# edited by hand\n", encoding="utf-8")
    again = invoke("init", tmp_path)
    assert again.exit_code == 1
    assert "already exists; pass --force to overwrite" in flat(again.output)
    assert yaml.read_text(encoding="utf-8") == "# edited by hand\n"
    forced = invoke("init", tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    assert yaml.read_text(encoding="utf-8") != "# edited by hand\n"


def test_a_commands_help_paragraphs_wrap_to_the_terminal() -> None:
    """A docstring's later paragraphs are wrapped by the terminal, not at the source's 100
    columns (typer keeps their line breaks: ragged lines in an 80-column terminal)."""
    wide = runner.invoke(main.app, ["run", "--help"], env={"COLUMNS": "200"})
    assert wide.exit_code == 0, wide.output
    assert "(skipped), 1 when the run failed, 2 for a bad spec or usage." in wide.output
    served = runner.invoke(main.app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "in English, 简体中文 and 繁體中文. Log in there" in served
