"""a booking holds a space slot on every departure it rides

A booking made from a quote rides feeder legs (road, barge, air) on other
departures than its main one; each of those departures' projections now holds it
too, so a slot row is keyed by booking and departure.

Revision ID: 3d8a6c2e9f17
Revises: 7c2f4b9e1d05
Create Date: 2026-11-27 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '3d8a6c2e9f17'
down_revision: str | None = '7c2f4b9e1d05'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('space_slots', schema=None) as batch_op:
        batch_op.drop_constraint('pk_space_slots', type_='primary')
        batch_op.create_primary_key('pk_space_slots', ['booking_id', 'departure_id'])


def downgrade() -> None:
    # Keep one slot per booking: the one on its own (main) departure.
    op.execute(
        "DELETE FROM space_slots WHERE departure_id <> "
        "(SELECT bookings.departure_id FROM bookings WHERE bookings.id = space_slots.booking_id)"
    )
    with op.batch_alter_table('space_slots', schema=None) as batch_op:
        batch_op.drop_constraint('pk_space_slots', type_='primary')
        batch_op.create_primary_key('pk_space_slots', ['booking_id'])
