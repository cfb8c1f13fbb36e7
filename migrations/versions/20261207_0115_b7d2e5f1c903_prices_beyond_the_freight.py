"""Prices beyond the freight: rate cards price the journey's ends; a booking keeps its price lines and Incoterm

Rate cards gain per-CBM and minimum charges for origin CFS handling, destination terminal
handling, pickup and delivery (0 on the existing cards: their prices do not change). A booking
keeps its price line by line (NULL for the existing ones), whether it asked for pickup and
delivery (no, for the existing ones) and the Incoterms 2020 rule its exporter sells under.

Revision ID: b7d2e5f1c903
Revises: b7d2e4a91c03
Create Date: 2026-12-07 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d2e5f1c903'
down_revision: str | None = 'b7d2e4a91c03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_breakdown', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('pickup', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('delivery', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('incoterm', sa.String(length=3), nullable=True))

    with op.batch_alter_table('rate_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_handling_per_cbm', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('origin_handling_minimum', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('destination_handling_per_cbm', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('destination_handling_minimum', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('pickup_per_cbm', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('pickup_minimum', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('delivery_per_cbm', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('delivery_minimum', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('rate_cards', schema=None) as batch_op:
        batch_op.drop_column('delivery_minimum')
        batch_op.drop_column('delivery_per_cbm')
        batch_op.drop_column('pickup_minimum')
        batch_op.drop_column('pickup_per_cbm')
        batch_op.drop_column('destination_handling_minimum')
        batch_op.drop_column('destination_handling_per_cbm')
        batch_op.drop_column('origin_handling_minimum')
        batch_op.drop_column('origin_handling_per_cbm')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('incoterm')
        batch_op.drop_column('delivery')
        batch_op.drop_column('pickup')
        batch_op.drop_column('price_breakdown')

