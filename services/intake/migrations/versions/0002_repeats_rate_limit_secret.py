"""intake: recognising repeated submissions, rate-limit windows, the deployment's secret

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
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
    op.create_table(
        "recent_payloads",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "rate_windows",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_rate_windows_expires_at", "rate_windows", ["expires_at"])
    op.create_table(
        "intake_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_settings")
    op.drop_index("ix_rate_windows_expires_at", "rate_windows")
    op.drop_table("rate_windows")
    op.drop_table("idempotency_keys")
    op.drop_table("recent_payloads")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("event_id")
