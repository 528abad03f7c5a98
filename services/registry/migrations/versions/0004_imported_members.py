"""registry: members brought in by import (flag, the key an import is idempotent on), a
population that an imported member may not have

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from services.registry.domain import government_key

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("imported", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("members") as table:
        table.alter_column("population", existing_type=sa.Integer, nullable=True)
        table.add_column(sa.Column("key", sa.String(240), nullable=False, server_default=""))
        table.add_column(sa.Column("imported", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    members = sa.table("members", sa.column("id", sa.Integer),
                       sa.column("government_name", sa.String),
                       sa.column("country", sa.String), sa.column("key", sa.String))
    connection = op.get_bind()
    for member_id, name, country in connection.execute(
        sa.select(members.c.id, members.c.government_name, members.c.country)
    ).all():
        connection.execute(members.update().where(members.c.id == member_id)
                           .values(key=government_key(name, country)))
    op.create_index("ix_members_key", "members", ["key"])
    op.create_index(
        "uq_members_imported_key",
        "members",
        ["key"],
        unique=True,
        sqlite_where=sa.text("imported"),
        postgresql_where=sa.text("imported"),
    )


def downgrade() -> None:
    op.drop_index("uq_members_imported_key", "members")
    op.drop_index("ix_members_key", "members")
    with op.batch_alter_table("members") as table:
        for column in ("imported", "key"):
            table.drop_column(column)
        table.alter_column("population", existing_type=sa.Integer, nullable=False)
    with op.batch_alter_table("applications") as table:
        table.drop_column("imported")
