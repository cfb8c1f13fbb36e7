"""DCSA Booking 2.0: what the DCSA view keeps beside a booking made or changed through it

Its request reference (carrierBookingRequestReference), the requested equipment as sent,
whether an update was received, the amendment and cancellation statuses, and the feedbacks
of the last request. Bookings made through /v1 have no row until changed through the view.

Revision ID: d3a7b8c1e5f2
Revises: e3a9c5d71f42
Create Date: 2026-12-07 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = 'd3a7b8c1e5f2'
down_revision: str | None = 'e3a9c5d71f42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'dcsa_bookings',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('request_reference', sa.String(length=100), nullable=False),
        sa.Column('equipments', sa.JSON(), nullable=False),
        sa.Column('equipment_substitution_allowed', sa.Boolean(), nullable=False),
        sa.Column('update_received', sa.Boolean(), nullable=False),
        sa.Column('amended_booking_status', sa.String(length=30), nullable=True),
        sa.Column('cancellation_status', sa.String(length=30), nullable=True),
        sa.Column('feedbacks', sa.JSON(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_dcsa_bookings_booking_id_bookings')),
        sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_dcsa_bookings')),
        sa.UniqueConstraint('request_reference', name=op.f('uq_dcsa_bookings_request_reference')),
    )


def downgrade() -> None:
    op.drop_table('dcsa_bookings')
