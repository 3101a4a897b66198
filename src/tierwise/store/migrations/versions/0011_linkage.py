"""linkage: versions of the record-linkage mapping, and people's decisions on pairs

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("review", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_link_versions_number")),
    )
    op.create_table(
        "link_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_a", sa.String(length=400), nullable=False),
        sa.Column("record_b", sa.String(length=400), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("decision IN ('link', 'apart')",
                           name=op.f("ck_link_decisions_decision")),
        sa.CheckConstraint("record_a < record_b", name=op.f("ck_link_decisions_ordered")),
        sa.ForeignKeyConstraint(["version_id"], ["link_versions.id"],
                                name=op.f("fk_link_decisions_version_id_link_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_decisions")),
    )
    op.create_index("ix_link_decisions_record_a_record_b", "link_decisions",
                    ["record_a", "record_b"])


def downgrade() -> None:
    op.drop_index("ix_link_decisions_record_a_record_b", table_name="link_decisions")
    op.drop_table("link_decisions")
    op.drop_table("link_versions")
