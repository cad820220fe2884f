"""preschools.audio_prerendered_on: the local date whose likely answers the morning job last spoke into
the audio cache (laiban.jobs.prerender), so that it runs once a day per preschool

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_prerendered_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.drop_column("audio_prerendered_on")
