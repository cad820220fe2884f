"""calendar: events, closed days, activities; say children's names

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:44:34.785697
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=True),
        sa.Column("ends_at", sa.Time(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("future_text", sa.String(length=200), nullable=False),
        sa.Column("past_text", sa.String(length=200), nullable=False),
        sa.Column("picture", sa.String(length=50), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_activities_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_preschool_id"), ["preschool_id"], unique=False)

    op.create_table(
        "calendar_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.Time(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("picture", sa.String(length=50), nullable=False),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_calendar_events_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
    )
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_events_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_events_preschool_id"), ["preschool_id"], unique=False)

    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_closed_days_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_days")),
        sa.UniqueConstraint("preschool_id", "day", name=op.f("uq_closed_days_preschool_id")),
    )
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_child_names", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.drop_column("show_child_names")

    op.drop_table("closed_days")
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_events_preschool_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_events_day"))

    op.drop_table("calendar_events")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_preschool_id"))
        batch_op.drop_index(batch_op.f("ix_activities_day"))

    op.drop_table("activities")
