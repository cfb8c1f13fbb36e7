"""China Railway's container rules, railway station codes, DG declarations and train consists

Rail services gain their rules as settings (NULL for the existing services: they keep planning as
before until given rules); hubs their railway station code; departures their own train limits
(NULL: the service's); a cargo line what it declares with its dangerous goods (special provisions,
battery condition, documents); and each plan version may have one stored train consist.

Revision ID: e3a9c1f0b715
Revises: d3c8a1f5e207
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = 'e3a9c1f0b715'
down_revision: str | None = 'd3c8a1f5e207'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('hubs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('railway_station_code', sa.String(length=16), nullable=True))
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rail_rules', sa.JSON(), nullable=True))
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_cargo_kg', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('max_train_length_m', sa.Double(), nullable=True))
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dg_declaration', sa.JSON(), nullable=True))
    op.create_table(
        'plan_consists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('departure_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_plan_consists_departure_id_departures')),
        sa.ForeignKeyConstraint(['plan_id'], ['departure_plans.id'], name=op.f('fk_plan_consists_plan_id_departure_plans'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_consists')),
        sa.UniqueConstraint('plan_id', name=op.f('uq_plan_consists_plan_id')),
    )
    with op.batch_alter_table('plan_consists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_consists_departure_id'), ['departure_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_consists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_consists_departure_id'))
    op.drop_table('plan_consists')
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.drop_column('dg_declaration')
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_column('max_train_length_m')
        batch_op.drop_column('max_cargo_kg')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('rail_rules')
    with op.batch_alter_table('hubs', schema=None) as batch_op:
        batch_op.drop_column('railway_station_code')
