"""The CLI tests share the consoles of tierwise.cli.common with every later test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tierwise.cli import common


@pytest.fixture(autouse=True)
def _consoles_left_as_found() -> Iterator[None]:
    """No test leaves a fixed size on the shared consoles: a width set on a console stays set
    when the test ends (monkeypatch restores the width read, not "follow the terminal"), and
    the next test wraps its lines at that width. Tests widen the output with ``COLUMNS``."""
    yield
    for name, console in (("console", common.console), ("err", common.err)):
        fixed = (console._width, console._height)
        assert fixed == (None, None), (
            f"the test left tierwise.cli.common.{name} at the fixed size {fixed}; widen the "
            "output with monkeypatch.setenv('COLUMNS', '200') instead of setting its width")
