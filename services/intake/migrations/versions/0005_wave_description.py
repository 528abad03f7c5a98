"""intake: a wave's description, from wave.opened (optional, in the languages given)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("waves") as table:
        table.add_column(sa.Column("description", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waves") as table:
        table.drop_column("description")
