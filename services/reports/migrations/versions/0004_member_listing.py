"""reports: members' websites and their consent to the public directory

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
    with op.batch_alter_table("rm_members") as table:
        table.add_column(sa.Column("website", sa.String(500), nullable=True))
        table.add_column(sa.Column("listing_consent", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        table.add_column(sa.Column("listing_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rm_members") as table:
        table.drop_column("listing_at")
        table.drop_column("listing_consent")
        table.drop_column("website")
