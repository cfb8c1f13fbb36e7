"""Rate limits shared by the API processes: one token bucket row per API key (app/ratelimit.py)

On PostgreSQL every process takes a key's tokens from its row, so N processes give a key
its limit, not N times it. The embedded SQLite default keeps its buckets in memory and
never writes here.

Revision ID: d4e8a1c6b302
Revises: e3a9c1f0b715
Create Date: 2026-12-07 03:29:09.796485
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db


revision: str = 'd4e8a1c6b302'
down_revision: str | None = 'e3a9c1f0b715'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_buckets',
    sa.Column('bucket', sa.String(length=64), nullable=False),
    sa.Column('tokens', sa.Double(), nullable=False),
    sa.Column('counted_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_rate_limit_buckets'))
    )


def downgrade() -> None:
    op.drop_table('rate_limit_buckets')
