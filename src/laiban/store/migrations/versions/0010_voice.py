"""The preschool's voice: speaking rate and pitch (preschools.speech_rate, speech_pitch), and the
pronunciation table (pronunciations: a written word and how the voice should say it, per language)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speech_rate", sa.Integer(), nullable=False, server_default="140"))
        batch_op.add_column(sa.Column("speech_pitch", sa.Integer(), nullable=False, server_default="50"))

    op.create_table(
        "pronunciations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preschool_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=10), nullable=False),
        sa.Column("written", sa.String(length=100), nullable=False),
        sa.Column("spoken", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["preschool_id"],
            ["preschools.id"],
            name=op.f("fk_pronunciations_preschool_id_preschools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pronunciations")),
        sa.UniqueConstraint("preschool_id", "lang", "written", name=op.f("uq_pronunciations_preschool_id")),
    )


def downgrade() -> None:
    op.drop_table("pronunciations")
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.drop_column("speech_pitch")
        batch_op.drop_column("speech_rate")
