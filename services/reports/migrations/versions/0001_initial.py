"""reports: first read model, outbox, inbox

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "applications_seen",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("applications_seen")
    op.drop_table("inbox")
    op.drop_table("outbox")
