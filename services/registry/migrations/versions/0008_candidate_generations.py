"""registry: a generation per country, bumped by every change to what a new application of that
country is compared with (services/registry/candidates.py)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate_generations",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("candidate_generations")
