"""registry: a member's website and its consent to the public directory

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
    with op.batch_alter_table("members") as table:
        table.add_column(sa.Column("website", sa.String(500), nullable=True))
        # Members admitted before the form asked were never asked: not listed.
        table.add_column(sa.Column("listing_consent", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    # Their applications said where the government is on the web.
    op.execute(
        "UPDATE members SET website = (SELECT json_extract(form, '$.website') FROM applications "
        "WHERE applications.id = members.application_id)"
        if op.get_bind().dialect.name == "sqlite" else
        "UPDATE members SET website = applications.form ->> 'website' FROM applications "
        "WHERE applications.id = members.application_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("members") as table:
        table.drop_column("listing_consent")
        table.drop_column("website")
