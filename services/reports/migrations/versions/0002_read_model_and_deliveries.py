"""reports: the read model fed by events, and the digest delivery log

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The walking skeleton's counter; the read model below replaces it.
    op.drop_table("applications_seen")
    op.create_table(
        "rm_applications",
        sa.Column("reference", sa.String(40), primary_key=True),
        sa.Column("application_id", sa.Integer, nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=True),
        sa.Column("government_name", sa.String(200), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("jurisdiction_type", sa.String(32), nullable=True),
        sa.Column("population", sa.Integer, nullable=True),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("language", sa.String(2), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("status_at", sa.DateTime, nullable=True),
        sa.Column("wave", sa.Integer, nullable=True),
        sa.Column("member_id", sa.Integer, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    op.create_index("ix_rm_applications_status", "rm_applications", ["status"])
    op.create_table(
        "rm_members",
        sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("wave", sa.Integer, nullable=True),
        sa.Column("government_name", sa.String(200), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("jurisdiction_type", sa.String(32), nullable=True),
        sa.Column("population", sa.Integer, nullable=True),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("reference", sa.String(40), nullable=True),
        sa.Column("joined_at", sa.DateTime, nullable=True),
        sa.Column("left_at", sa.DateTime, nullable=True),
        sa.Column("left_reason", sa.String(16), nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    op.create_index("ix_rm_members_joined_at", "rm_members", ["joined_at"])
    op.create_table(
        "rm_decisions",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("wave", sa.Integer, nullable=True),
    )
    op.create_index("ix_rm_decisions_reference", "rm_decisions", ["reference"])
    op.create_index("ix_rm_decisions_decided_at", "rm_decisions", ["decided_at"])
    op.create_table(
        "rm_waves",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.JSON, nullable=False),
        sa.Column("theme", sa.JSON, nullable=False),
        sa.Column("opens_at", sa.DateTime, nullable=True),
        sa.Column("closes_at", sa.DateTime, nullable=True),
        sa.Column("opened_at", sa.DateTime, nullable=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("period_start", sa.DateTime, nullable=False),
        sa.Column("period_end", sa.DateTime, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("delivered_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("digest", "period_start", name="uq_digest_period"),
    )


def downgrade() -> None:
    op.drop_table("digest_deliveries")
    op.drop_table("rm_waves")
    op.drop_table("rm_decisions")
    op.drop_table("rm_members")
    op.drop_table("rm_applications")
    op.create_table(
        "applications_seen",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
