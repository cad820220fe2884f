"""lunch: menu sources, staff wording, meal ratings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 19:09:44.868058
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meal_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dish", sa.String(length=300), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_meal_ratings_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meal_ratings")),
    )
    with op.batch_alter_table("meal_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meal_ratings_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_meal_ratings_preschool_id"), ["preschool_id"], unique=False)

    op.create_table(
        "menu_sources",
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_menu_sources_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("preschool_id", name=op.f("pk_menu_sources")),
    )
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simple_override", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.drop_column("simple_override")

    op.drop_table("menu_sources")
    with op.batch_alter_table("meal_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meal_ratings_preschool_id"))
        batch_op.drop_index(batch_op.f("ix_meal_ratings_day"))

    op.drop_table("meal_ratings")
