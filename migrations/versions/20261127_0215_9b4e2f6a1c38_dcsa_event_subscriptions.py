"""DCSA event subscriptions are webhook subscriptions of format DCSA

``format`` tells the worker what to POST (CARAVAN: Standard Webhooks; DCSA: a DCSA
Track & Trace 2.2 notification); ``filters`` holds a DCSA subscription's filter fields.
Existing rows are Caravan's own (the server default).

Revision ID: 9b4e2f6a1c38
Revises: 9b4e2f7a6c31
Create Date: 2026-11-27 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9b4e2f6a1c38'
down_revision: str | None = '9b4e2f7a6c31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.String(length=10), server_default='CARAVAN', nullable=False))
        batch_op.add_column(sa.Column('filters', sa.JSON(), nullable=True))


def downgrade() -> None:
    # DCSA subscriptions cannot be expressed without their columns: their outbox rows and them go.
    op.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d "
        "JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.format <> 'CARAVAN')"
    )
    op.execute(
        "DELETE FROM webhook_deliveries WHERE subscription_id IN "
        "(SELECT id FROM webhook_subscriptions WHERE format <> 'CARAVAN')"
    )
    op.execute("DELETE FROM webhook_subscriptions WHERE format <> 'CARAVAN'")
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('filters')
        batch_op.drop_column('format')
