"""weather: forecasts, garment corrections and ratings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:48:42.763913
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column("location_key", sa.String(length=32), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("metno_last_modified", sa.String(length=64), nullable=True),
        sa.Column("metno_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("location_key", name=op.f("pk_forecasts")),
    )
    op.create_table(
        "garment_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=30), nullable=False),
        sa.Column("garments", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_garment_corrections_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_garment_corrections_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_garment_corrections")),
    )
    with op.batch_alter_table("garment_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_garment_corrections_preschool_id"), ["preschool_id"], unique=False
        )

    op.create_table(
        "garment_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=30), nullable=False),
        sa.Column("garments", sa.JSON(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_garment_ratings_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_garment_ratings")),
    )
    with op.batch_alter_table("garment_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_garment_ratings_preschool_id"), ["preschool_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("garment_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_garment_ratings_preschool_id"))

    op.drop_table("garment_ratings")
    with op.batch_alter_table("garment_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_garment_corrections_preschool_id"))

    op.drop_table("garment_corrections")
    op.drop_table("forecasts")
