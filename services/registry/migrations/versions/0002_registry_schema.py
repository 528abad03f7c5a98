"""registry: waves (with the three historic ones), members, review state, audit log, tokens

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

from services.registry.historic_waves import HISTORIC_WAVES

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    waves = op.create_table(
        "waves",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.JSON, nullable=False),
        sa.Column("theme", sa.JSON, nullable=False),
        sa.Column("opens_at", sa.DateTime, nullable=False),
        sa.Column("closes_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index(
        "uq_waves_one_open",
        "waves",
        ["status"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    # The historic waves as they stand today; a later change to them is a new revision.
    op.bulk_insert(
        waves,
        [
            {
                "number": wave.number,
                "name": wave.name,
                "theme": wave.theme,
                "opens_at": wave.opens_at.replace(tzinfo=None),
                "closes_at": wave.closes_at.replace(tzinfo=None) if wave.closes_at else None,
                "status": wave.status.value,
            }
            for wave in HISTORIC_WAVES
        ],
    )

    with op.batch_alter_table("applications") as table:
        table.add_column(sa.Column("region", sa.String(32), nullable=False, server_default=""))
        table.add_column(sa.Column("submitted_at", sa.DateTime, nullable=True))
        table.add_column(sa.Column("wave", sa.Integer, nullable=True))
        table.add_column(sa.Column("member_id", sa.Integer, nullable=True))
        table.add_column(sa.Column("possible_duplicate", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        table.add_column(sa.Column("possible_duplicates", sa.JSON, nullable=True))
        table.add_column(sa.Column("info_request", sa.Text, nullable=True))
        table.add_column(sa.Column("decision_reason", sa.Text, nullable=True))
        table.add_column(sa.Column("erased", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        table.add_column(sa.Column("updated_at", sa.DateTime, nullable=True))
        table.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_applications_status", "applications", ["status"])
    op.create_index("ix_applications_country", "applications", ["country"])

    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.Integer, nullable=False, unique=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("government_name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("jurisdiction_type", sa.String(32), nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("joined_wave", sa.Integer, nullable=False),
        sa.Column("joined_at", sa.DateTime, nullable=False),
        sa.Column("waves", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime, nullable=True),
        sa.Column("withdrawal_reason", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_members_country", "members", ["country"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_index("ix_audit_subject", "audit_log", ["subject_type", "subject_id"])

    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(100), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_tokens")
    op.drop_table("audit_log")
    op.drop_table("members")
    op.drop_index("ix_applications_country", "applications")
    op.drop_index("ix_applications_status", "applications")
    with op.batch_alter_table("applications") as table:
        for column in ("version", "updated_at", "erased", "decision_reason", "info_request",
                       "possible_duplicates", "possible_duplicate", "member_id", "wave",
                       "submitted_at", "region"):
            table.drop_column(column)
    op.drop_index("uq_waves_one_open", "waves")
    op.drop_table("waves")
