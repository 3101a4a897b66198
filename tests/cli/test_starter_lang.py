"""`tierwise init --lang zh`: a starter project in Chinese that loads, runs and speaks Chinese."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tierwise.cli import main
from tierwise.services.demo import examples_dir
from tierwise.services.starter import without_header
from tierwise.spec import load_project, parse_project, read_yaml

runner = CliRunner()
STARTERS = Path(main.__file__).resolve().parents[1] / "services" / "starter_files"
HAN = re.compile(r"[\u4e00-\u9fff]")
#: Characters that differ between the scripts: the Simplified and the Traditional form.
SCRIPT = {"zh-Hans": ("户", "戶"), "zh-Hant": ("戶", "户")}


def _texts(value: Any) -> Any:
    """``value`` without what is written for people (labels, descriptions, strategies, language)."""
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()
                if k not in ("label", "description", "strategy", "language")}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    return value


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_chinese_starters_grade_as_the_english_one(lang: str) -> None:
    # The Chinese starters are translations: the same sources, indicators, rules and tiers.
    english = load_project(examples_dir() / "retail")[0]
    chinese = parse_project(read_yaml(STARTERS / f"retail.{lang}.yaml"))
    assert chinese.language == lang
    assert _texts(chinese.model_dump(mode="json")) == _texts(english.model_dump(mode="json")), (
        f"starter_files/retail.{lang}.yaml no longer matches examples/retail/tierwise.yaml: "
        "carry the change over, in Chinese")


@pytest.mark.parametrize(("option", "lang"), [("zh", "zh-Hans"), ("zh-Hant", "zh-Hant")])
def test_init_in_chinese_writes_a_chinese_project_that_runs(
    option: str, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.delenv("TIERWISE_LANG", raising=False)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    monkeypatch.setenv("COLUMNS", "120")
    made = runner.invoke(main.app, ["init", str(tmp_path / "shop"), "--lang", option])
    assert made.exit_code == 0, made.output
    own, other = SCRIPT[lang]
    assert own in made.output and other not in made.output
    text = (tmp_path / "shop" / "tierwise.yaml").read_text(encoding="utf-8")
    comments = [line.split("#", 1)[1] for line in without_header(text).splitlines()
                if line.lstrip().startswith("#")]
    assert comments and all(HAN.search(c) for c in comments)
    assert HAN.search(text[:text.index("\n\n")]) and other not in text
    spec = load_project(tmp_path / "shop")[0]
    assert spec.language == lang
    for name, indicator in spec.indicators.items():
        assert indicator.label is not None and HAN.search(indicator.label.text(lang)), name
        assert indicator.description and HAN.search(indicator.description.text(lang)), name
    for scheme in spec.schemes.values():
        for tier in scheme.tiers:
            assert HAN.search(tier.label_text(lang)), tier.key
            for said in (tier.description_text(lang), tier.strategy_text(lang)):
                assert said is None or HAN.search(said), tier.key
    # No --lang: the project's language speaks.
    ran = runner.invoke(main.app, ["run", "value", "-p", str(tmp_path / "shop")])
    assert ran.exit_code == 0, ran.output
    for tier in spec.schemes["value"].tiers:
        assert tier.label_text(lang) in ran.output
