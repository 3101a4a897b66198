"""Dashboard fixtures: the hand-made months project (tests/services/conftest.py)."""

from tests.services.conftest import months  # noqa: F401
