"""reassignment review: the manager an assign action proposes while a reviewer decides

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposal", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_ledger", schema=None) as batch_op:
        batch_op.drop_column("proposal")
