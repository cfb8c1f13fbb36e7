"""Stuffing: a cargo line says which sides may stand upright; a planned container keeps its stuffing plan

``cargo_lines.vertical`` (JSON list of sides, NULL: by package type) and
``plan_containers.stuffing`` (the container's FORMAT.md stuffing plan, NULL for plans
made before stuffing existed). Existing rows keep NULL, which means what it meant.

Revision ID: c7d2e9a41f06
Revises: a4c81f2e7b65
Create Date: 2026-12-07 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7d2e9a41f06'
down_revision: str | None = 'a4c81f2e7b65'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vertical', sa.JSON(), nullable=True))
    with op.batch_alter_table('plan_containers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stuffing', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_containers', schema=None) as batch_op:
        batch_op.drop_column('stuffing')
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.drop_column('vertical')
