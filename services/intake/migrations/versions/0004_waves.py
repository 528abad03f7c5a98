"""intake: the campaign's waves, from the registry's wave.opened and wave.closed events

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waves",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.JSON, nullable=True),
        sa.Column("theme", sa.JSON, nullable=True),
        sa.Column("closes_at", sa.DateTime, nullable=True),
        sa.Column("opened_at", sa.DateTime, nullable=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("waves")
