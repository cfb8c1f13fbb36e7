"""An EQUIPMENT event keeps the planned container it was recorded on

Visibility of equipment events followed the container number on the departure, in any
plan version; a number given to another container in a later version showed its events
to the bookings of the old one. Existing events keep no container (NULL) and are judged
as before.

Revision ID: 5e1c7a9d3b24
Revises: 9b4e2f6a1c38
Create Date: 2026-11-27 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e1c7a9d3b24'
down_revision: str | None = '9b4e2f6a1c38'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('container_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_tracking_events_container_id_plan_containers'), 'plan_containers', ['container_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tracking_events_container_id_plan_containers'), type_='foreignkey')
        batch_op.drop_column('container_id')
