"""notify: the projection (applicants, members, waves); notifications carry their context

The log now stores what a mail needs (template, language, context) and composes it when it is
first sent, outside the event's transaction; ``message`` keeps the composed bytes for retries.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("recipient_name", sa.String(300), nullable=True))
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("context", sa.JSON, nullable=True))
        batch.alter_column("message", existing_type=sa.Text, nullable=True)
    op.create_table(
        "applicants",
        sa.Column("reference", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("government_name", sa.Text, nullable=False),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
    )
    op.create_index("ix_applicants_status", "applicants", ["status"])
    op.create_table(
        "members",
        sa.Column("member_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("government_name", sa.Text, nullable=True),
        sa.Column("reference", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_members_status", "members", ["status"])
    op.create_table(
        "waves",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.JSON, nullable=False),
        sa.Column("theme", sa.JSON, nullable=False),
        sa.Column("opens_at", sa.String(40), nullable=True),
        sa.Column("closes_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("waves")
    op.drop_table("members")
    op.drop_table("applicants")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("context")
        batch.drop_column("language")
        batch.drop_column("recipient_name")
