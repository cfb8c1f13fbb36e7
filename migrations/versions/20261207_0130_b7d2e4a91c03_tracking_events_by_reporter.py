"""Index tracking events by the organisation that recorded them and their departure

A partner reporting events (events:write) sees the TRANSPORT and EQUIPMENT events of the
departures it reports on, and gets their webhooks: both look its departures up by
recorded_by_organization_id, which had no index.

Revision ID: b7d2e4a91c03
Revises: c7d2e9a41f06
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'b7d2e4a91c03'
down_revision: str | None = 'c7d2e9a41f06'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_tracking_events_recorded_by_departure', ['recorded_by_organization_id', 'departure_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_recorded_by_departure')
