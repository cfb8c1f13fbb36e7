"""plan container number index

EQUIPMENT events find their container by number (app/tracking/service.py).

Revision ID: 5e1a7c3d9b20
Revises: bec832ae416d
Create Date: 2026-11-26 22:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5e1a7c3d9b20'
down_revision: str | None = 'bec832ae416d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan_containers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_containers_container_number'), ['container_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_containers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_containers_container_number'))
