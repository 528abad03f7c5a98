"""registry: a wave's description, in the languages the campaign wrote it in (optional)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("waves") as table:
        table.add_column(sa.Column("description", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waves") as table:
        table.drop_column("description")
