"""reassignment holder: who had the customer when an assign action proposed to move them

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.drop_column("held_by")
