"""intake: the applicant's page (keys, projection, answers, attachments, withdrawals) and the
staff tokens the registry announced

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_keys",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_page_keys_reference", "page_keys", ["reference"])
    op.create_table(
        "application_steps",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("application_id", sa.Integer, nullable=True),
        sa.Column("wave", sa.Integer, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
    )
    op.create_index("ix_application_steps_reference", "application_steps", ["reference"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("request_event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("answered_at", sa.DateTime, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_answers_reference", "answers", ["reference"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id"), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_attachments_answer_id", "attachments", ["answer_id"])
    op.create_index("ix_attachments_reference", "attachments", ["reference"])
    op.create_table(
        "withdrawal_requests",
        sa.Column("reference", sa.String(40), primary_key=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
    )
    op.create_table(
        "staff_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_tokens")
    op.drop_table("withdrawal_requests")
    op.drop_table("attachments")
    op.drop_table("answers")
    op.drop_table("application_steps")
    op.drop_table("page_keys")
