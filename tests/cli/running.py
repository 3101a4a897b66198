"""What the store-backed CLI tests share: the command runner, borderless output, the project."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.services.conftest import write_months
from tierwise.cli import main

runner = CliRunner()


def invoke(*args: object) -> Result:
    """``tierwise ARGS``; an exception the CLI does not turn into an exit code fails the test."""
    return runner.invoke(main.app, [str(a) for a in args], catch_exceptions=False)


def flat(text: str) -> str:
    """The words of the output, table borders removed."""
    return " ".join(text.translate({ord(c): " " for c in "│┃┏┓┗┛┡┩━─└┘┌┐╇┳┻╋┴┬┼"}).split())


def months_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The months project with its own SQLite store, run by the user ``analyst``.

    The output is widened through ``COLUMNS``: a width set on a console would outlive the test.
    """
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "200")
    return write_months(tmp_path / "months")
