"""Usage errors (an unknown option, a missing argument, a value of the wrong kind) in the
reader's language, with Typer's layout and exit code 2."""

from __future__ import annotations

import pytest
from typer._click.exceptions import UsageError

from tests.cli.running import flat, runner
from tierwise import i18n
from tierwise.cli import main
from tierwise.cli.usage import message_of


def said(*args: str) -> tuple[int, str]:
    """``tierwise ARGS``: the exit code and the words printed."""
    result = runner.invoke(main.app, list(args), catch_exceptions=False, prog_name="tierwise")
    return result.exit_code, flat(result.output)


@pytest.mark.parametrize(("args", "words"), [
    (["run", "--bogus"], ["Usage: tierwise run", "Try 'tierwise run --help' for help.",
                          "Error", "No such option: --bogus"]),
    (["explain"], ["Missing argument 'customer'."]),
    (["nosuch"], ["No such command 'nosuch'."]),
    (["serve", "--port", "abc"], ["Invalid value for '--port': 'abc' is not an integer."]),
    (["credit", "s", "--run", "0"], ["Invalid value for '--run': '0' is less than 1."]),
    (["run", "--as-of"], ["Option '--as-of' requires a value."]),
    (["runn"], ["No such command 'runn'. Did you mean 'run', 'runs'?"]),
])
def test_english_says_what_went_wrong(args: list[str], words: list[str]) -> None:
    code, text = said(*args)
    assert code == 2
    for word in words:
        assert word in text


@pytest.mark.parametrize(("args", "words"), [
    (["--lang", "zh", "run", "--bogus"],
     ["用法：tierwise run", "运行 'tierwise run --help' 查看帮助。", "错误", "没有选项：--bogus"]),
    (["--lang", "zh", "explain"], ["缺少参数 'customer'。"]),
    (["--lang", "zh", "nosuch"], ["没有命令 'nosuch'。"]),
    (["--lang", "zh", "serve", "--port", "abc"], ["'--port' 的值无效：'abc' 不是整数。"]),
    (["--lang", "zh", "credit", "s", "--run", "0"], ["'--run' 的值无效：'0' 小于 1。"]),
    (["--lang", "zh-TW", "run", "--as-of"], ["選項 '--as-of' 需要一個值。"]),
    # A command's own --lang after the mistake, which Typer never reaches.
    (["run", "--bogus", "--lang", "zh-TW"], ["執行 'tierwise run --help' 查看說明。", "錯誤",
                                              "沒有選項：--bogus"]),
    (["run", "--bogus", "--lang=zh"], ["没有选项：--bogus"]),
    (["--lang", "zh", "runn"], ["没有命令 'runn'。您是不是要用 'run'、'runs'？"]),
    (["--lang", "zh", "explain", "a", "b", "c", "-s", "x"], ["多出了无法识别的参数（b c）。"]),
])
def test_chinese_says_it_in_chinese(args: list[str], words: list[str]) -> None:
    code, text = said(*args)
    assert code == 2
    for word in words:
        assert word in text
    assert "No such" not in text and "Missing" not in text and "Invalid value" not in text


def test_the_environment_language_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_LANG", "zh-Hant")
    code, text = said("explain")
    assert code == 2 and "缺少引數 'customer'。" in text


def test_an_unknown_language_after_the_mistake_keeps_english() -> None:
    code, text = said("run", "--bogus", "--lang", "xx")
    assert code == 2 and "No such option: --bogus" in text


def test_a_message_of_another_form_is_shown_as_typer_wrote_it() -> None:
    with i18n.use("zh"):
        assert message_of(UsageError("the moon is not a scheme")) == "the moon is not a scheme"


def test_commands_that_work_still_exit_as_before() -> None:
    assert said("--help")[0] == 0
    assert said("--lang", "zh", "run", "--help")[0] == 0
    code, text = said()  # no command: the help, and 2 as Typer exits
    assert code == 2 and "Usage" in text


def test_a_wrong_command_name_is_said_in_the_environment_language(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_LANG", "zh")
    code, text = said("nosuch")
    assert code == 2 and "没有命令 'nosuch'。" in text


def test_a_lang_after_a_double_dash_is_an_argument_not_a_language() -> None:
    code, text = said("run", "--bogus", "--", "--lang", "zh")
    assert code == 2 and "No such option: --bogus" in text


def test_exit_codes_stay_typers() -> None:
    """A command's return value never becomes the exit code; typer.Exit(n) still does."""
    import typer

    from tierwise.cli.usage import LocalizedGroup

    app = typer.Typer(cls=LocalizedGroup)

    @app.command()
    def five() -> int:
        return 5

    @app.command()
    def three() -> None:
        raise typer.Exit(3)

    assert runner.invoke(app, ["five"]).exit_code == 0
    assert runner.invoke(app, ["three"]).exit_code == 3
    assert runner.invoke(app, ["four"]).exit_code == 2
