"""session idle time and client, token expiry, the access log, lockout keys, governance in fingerprints

Revision ID: 0004
Revises: 0003
"""

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# What the fingerprint leaves out from 0004 on: texts only. Override governance (`overrides:`,
# e.g. require_approval) now decides grades' validity and is part of the versioned scheme.
# Frozen here on purpose: a migration must compute what it computed when it was written.
_TEXTS = frozenset({"label", "description", "strategy"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _TEXTS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _fingerprint(spec: Any, indicators: Any) -> str:
    text = json.dumps({"scheme": _strip(spec), "indicators": _strip(indicators)},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("client", sa.String(length=100), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
    # Keys were "<user>|<client>"; they are "user:<name>" and "addr:<client>" now. Failures
    # counted under the old keys would never be read again: start the counts afresh.
    op.execute(sa.text("DELETE FROM login_failures"))

    conn = op.get_bind()
    versions = sa.table("scheme_versions", sa.column("id", sa.Integer),
                        sa.column("spec", sa.JSON), sa.column("indicators", sa.JSON),
                        sa.column("fingerprint", sa.String))
    for row in conn.execute(sa.select(versions.c.id, versions.c.spec, versions.c.indicators,
                                      versions.c.fingerprint)).all():
        new = _fingerprint(row.spec, row.indicators)
        if new != row.fingerprint:
            conn.execute(sa.update(versions).where(versions.c.id == row.id)
                         .values(fingerprint=new))


def downgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_at"))
    op.drop_table("access_log")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("client")
        batch_op.drop_column("last_seen_at")
