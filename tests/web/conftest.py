"""Dashboard fixtures: the hand-made months project (tests/services/conftest.py), a browser and
served projects for the tests in a real browser (tests/web/browsing.py)."""

from tests.services.conftest import months  # noqa: F401
from tests.web.browsing import browser, quality_site, server  # noqa: F401
