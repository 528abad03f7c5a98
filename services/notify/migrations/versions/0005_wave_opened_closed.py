"""notify: when each wave opened and closed, and its description, so that a member notify hears
of after the opening still gets the announcement owed to it

Revision ID: 0005
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
        table.add_column(sa.Column("opened_at", sa.String(40), nullable=True))
        table.add_column(sa.Column("closed_at", sa.String(40), nullable=True))
    # Waves told before this revision keep no opening time (notify did not keep the event's,
    # nor their closing): none of them is taken as open, so none is owed late.


def downgrade() -> None:
    with op.batch_alter_table("waves") as table:
        table.drop_column("closed_at")
        table.drop_column("opened_at")
        table.drop_column("description")
