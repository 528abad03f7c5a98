"""notify: one-click unsubscribe from announcements, and notify's shared settings (its secret)

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unsubscribes",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime, nullable=False),
        sa.Column("mail_id", sa.Integer, nullable=True),
    )
    op.create_table(
        "notify_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_settings")
    op.drop_table("unsubscribes")
