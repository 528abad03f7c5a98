"""notify: the staff token the registry generated, by its digest (staff.token_issued)

Revision ID: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_tokens")
