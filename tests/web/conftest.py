"""Dashboard fixtures: the hand-made months project (tests/services/conftest.py), and the
served examples with a browser for the accessibility and layout checks (tests/web/browsing.py)."""

from tests.services.conftest import months  # noqa: F401
from tests.web.browsing import quality_browser, quality_site  # noqa: F401
