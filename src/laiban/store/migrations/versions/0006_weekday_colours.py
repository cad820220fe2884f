"""preschools.weekday_colours: the colour of each weekday in the children's week strip

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT = '["#43a047", "#1e88e5", "#ffffff", "#8d6e63", "#fdd835", "#e53935", "#f48fb1"]'


def upgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weekday_colours", sa.JSON(), nullable=False, server_default=DEFAULT))


def downgrade() -> None:
    with op.batch_alter_table("preschools", schema=None) as batch_op:
        batch_op.drop_column("weekday_colours")
