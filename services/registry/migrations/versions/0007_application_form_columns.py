"""registry: the application form's fields in columns of their own, out of the ``form`` JSON

The domain's Application is now the mapped class (db.py), one column per attribute. Rows
whose review began before ``submitted_at`` was kept take their receipt time, and a missing
list of possible duplicates becomes an empty one, as the store used to read them.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The form as it stood at this revision (domain.FORM_FIELDS but the two columns of 0001).
TEXTS = ("website", "authority_name", "authority_title", "contact_name", "contact_position",
         "contact_email", "contact_phone", "commitment", "frameworks")
FORM = ("jurisdiction_type", "population", *TEXTS, "language", "themes", "listing_consent")


def upgrade() -> None:
    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("jurisdiction_type", sa.String(32), nullable=True))
        table.add_column(sa.Column("population", sa.BigInteger, nullable=True))
        for name in TEXTS:
            table.add_column(sa.Column(name, sa.Text, nullable=True))
        table.add_column(sa.Column("language", sa.String(2), nullable=True))
        table.add_column(sa.Column("themes", sa.JSON, nullable=True))
        table.add_column(sa.Column("listing_consent", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    applications = _applications("form", "submitted_at", "received_at", "possible_duplicates",
                                 *FORM)
    connection = op.get_bind()
    for row in connection.execute(sa.select(applications)).all():
        form = row.form or {}
        connection.execute(applications.update().where(applications.c.id == row.id).values({
            **{name: form.get(name) for name in FORM},
            "themes": list(form.get("themes") or []),
            "listing_consent": bool(form.get("listing_consent")),
            "submitted_at": row.submitted_at or row.received_at,
            "possible_duplicates": list(row.possible_duplicates or []),
        }))
    with op.batch_alter_table("applications") as table:
        table.alter_column("themes", existing_type=sa.JSON, nullable=False)
        table.alter_column("possible_duplicates", existing_type=sa.JSON, nullable=False)
        table.drop_column("form")


def downgrade() -> None:
    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("form", sa.JSON, nullable=True))
    applications = _applications("form", *FORM)
    connection = op.get_bind()
    for row in connection.execute(sa.select(applications)).all():
        connection.execute(applications.update().where(applications.c.id == row.id).values(
            form={name: getattr(row, name) for name in FORM}))
    with op.batch_alter_table("applications") as table:
        table.alter_column("form", existing_type=sa.JSON, nullable=False)
        table.alter_column("possible_duplicates", existing_type=sa.JSON, nullable=True)
        for name in reversed(FORM):
            table.drop_column(name)


def _applications(*names: str) -> sa.TableClause:
    types = {"population": sa.BigInteger, "listing_consent": sa.Boolean,
             "submitted_at": sa.DateTime, "received_at": sa.DateTime, "themes": sa.JSON,
             "form": sa.JSON, "possible_duplicates": sa.JSON}
    return sa.table("applications", sa.column("id", sa.Integer),
                    *(sa.column(name, types.get(name, sa.Text)) for name in names))
