"""a webhook subscription keeps its previous signing secret for a grace period

After a partner rotates a subscription's signing secret, the replaced one (stored
as ``secret`` is: as given or sealed, so the same width) signs every delivery too
until ``previous_secret_expires_at``.

Revision ID: 9b4e2f7a6c31
Revises: 3d8a6c2e9f17
Create Date: 2026-11-27 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '9b4e2f7a6c31'
down_revision: str | None = '3d8a6c2e9f17'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_expires_at', app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('previous_secret_expires_at')
        batch_op.drop_column('previous_secret')
