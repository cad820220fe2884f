"""activities.picture holds uploaded picture keys ("upload/<sha256>", 71 characters)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.alter_column(
            "picture",
            existing_type=sa.String(length=50),
            type_=sa.String(length=100),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Uploaded pictures do not fit the old column: those activities lose their picture.
    op.execute("UPDATE activities SET picture = '' WHERE picture LIKE 'upload/%'")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.alter_column(
            "picture",
            existing_type=sa.String(length=100),
            type_=sa.String(length=50),
            existing_nullable=False,
        )
