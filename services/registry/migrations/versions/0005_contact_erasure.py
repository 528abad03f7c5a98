"""registry: when a member's contact person was erased (the member stays)

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
    with op.batch_alter_table("members") as table:
        table.add_column(sa.Column("erased_at", sa.DateTime, nullable=True))
    # Members erased under the earlier rule keep their status "erased" (they left the counts
    # of reports then); from now on an erasure keeps the member.


def downgrade() -> None:
    with op.batch_alter_table("members") as table:
        table.drop_column("erased_at")
