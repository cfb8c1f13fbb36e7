"""Emissions: hub coordinates and handling intensity, service leg distances and intensity, quote footprints

Hubs gain WGS 84 latitude and longitude (a leg without a distance is estimated from its hubs'
great circle) and the operator's own handling intensity in kg CO2e per tonne. Services gain the
distance of each leg between consecutive calls and the operator's own intensity in g CO2e per
tonne-km, which overrides the factor table. Quote options keep their footprint. All NULL on
existing rows: nothing changes until set.

Revision ID: e3a9c5d71f42
Revises: d4e8a1c6b302
Create Date: 2026-12-07 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e3a9c5d71f42'
down_revision: str | None = 'd4e8a1c6b302'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('hubs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('handling_ttw_kg_per_t', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('handling_wtt_kg_per_t', sa.Double(), nullable=True))

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leg_distances_km', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('ttw_g_per_tkm', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('wtt_g_per_tkm', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('intensity_source', sa.String(length=200), nullable=True))

    with op.batch_alter_table('quote_options', schema=None) as batch_op:
        batch_op.add_column(sa.Column('co2e', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quote_options', schema=None) as batch_op:
        batch_op.drop_column('co2e')

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('intensity_source')
        batch_op.drop_column('wtt_g_per_tkm')
        batch_op.drop_column('ttw_g_per_tkm')
        batch_op.drop_column('leg_distances_km')

    with op.batch_alter_table('hubs', schema=None) as batch_op:
        batch_op.drop_column('handling_wtt_kg_per_t')
        batch_op.drop_column('handling_ttw_kg_per_t')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
