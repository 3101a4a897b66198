"""A scheme made in the dashboard runs from the CLI; `scheme new|show|rename|retire|restore`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.running import flat, invoke, months_project
from tierwise.services import runs, scheme_admin
from tierwise.services.grading import Project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return months_project(tmp_path, monkeypatch)


def test_a_dashboard_scheme_runs_from_the_cli(project: Path) -> None:
    proj = Project.open(project)
    store = runs.open_store(proj)
    spec = {"method": "rules", "fallback": "rest", "value": "spend_3m",
            "label": {"en": "Buyers", "zh": "购买客户"},
            "tiers": [{"key": "buyer", "label": {"en": "Buyer"}, "when": "orders_3m >= 1"},
                      {"key": "rest", "label": {"en": "Others"}}]}
    try:
        scheme_admin.create(store, proj, scheme_admin.NewScheme("buyers", "Buyers", spec=spec),
                            actor="sam")
    finally:
        store.close()
    done = invoke("run", "buyers", "-p", project)
    assert done.exit_code == 0, done.output
    text = flat(done.output)
    assert "buyers" in text and "Buyer" in text and "Others" in text
    again = invoke("run", "buyers", "-p", project)
    assert again.exit_code == 3 and "already done" in flat(again.output)
    shown = invoke("scheme", "show", "buyers", "-p", project)
    assert shown.exit_code == 0 and shown.output.startswith("buyers:\n")
    assert "orders_3m >= 1" in shown.output and "method: rules" in shown.output
    explained = invoke("explain", "C1", "-s", "buyers", "-p", project)
    assert explained.exit_code == 0, explained.output
    assert "Buyer" in explained.output and "orders_3m" in explained.output
    history = invoke("history", "C1", "-s", "buyers", "-p", project)
    assert history.exit_code == 0 and "buyer" in flat(history.output)
    everything = invoke("run", "--all", "--force", "-p", project)
    assert everything.exit_code == 0
    assert "buyers" in everything.output and "steady" in everything.output


def test_scheme_commands(project: Path) -> None:
    listed = invoke("scheme", "templates", "-p", project)
    assert listed.exit_code == 0 and "retail_value" in listed.output
    assert "spend_12m" in flat(listed.output)
    made = invoke("scheme", "new", "plain", "--title", "Plain", "-p", project)
    assert made.exit_code == 0, made.output
    assert "tierwise run plain" in flat(made.output)
    unfit = invoke("scheme", "new", "shop", "--template", "abc", "-p", project)
    assert unfit.exit_code == 2 and "spend_12m" in flat(unfit.output)
    bad = invoke("scheme", "new", "9lives", "-p", project)
    assert bad.exit_code == 2 and "scheme name" in flat(bad.output)
    assert invoke("scheme", "rename", "plain", "Plain and simple", "-p", project).exit_code == 0
    assert invoke("scheme", "retire", "plain", "-p", project).exit_code == 0
    skipped = invoke("run", "--all", "-p", project)
    assert "plain" not in skipped.output
    refused = invoke("run", "plain", "-p", project)
    assert refused.exit_code != 0 and "retired" in flat(refused.output)
    assert invoke("scheme", "restore", "plain", "-p", project).exit_code == 0
    assert invoke("run", "plain", "-p", project).exit_code == 0
