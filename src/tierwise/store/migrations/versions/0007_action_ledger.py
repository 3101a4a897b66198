"""action ledger: who each action reached, held out or left over budget, and the delivery

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("scheme", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("edge", sa.String(length=20), nullable=False),
        sa.Column("from_tier", sa.String(length=100), nullable=True),
        sa.Column("to_tier", sa.String(length=100), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"],
                                name=op.f("fk_action_ledger_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_ledger")),
        sa.UniqueConstraint("key", name=op.f("uq_action_ledger_key")),
    )
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_ledger_action_run_id"), ["action", "run_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_action_ledger_status_next_try_at"),
                              ["status", "next_try_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_ledger_action_as_of"), ["action", "as_of"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_ledger_action_as_of"))
        batch_op.drop_index(batch_op.f("ix_action_ledger_status_next_try_at"))
        batch_op.drop_index(batch_op.f("ix_action_ledger_action_run_id"))
    op.drop_table("action_ledger")
