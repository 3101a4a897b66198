"""The store: scheme versions, runs, overrides and the audit log (SQLAlchemy + Alembic)."""

from tierwise.store.db import ENV_URL, Store, default_url

__all__ = ["ENV_URL", "Store", "default_url"]
