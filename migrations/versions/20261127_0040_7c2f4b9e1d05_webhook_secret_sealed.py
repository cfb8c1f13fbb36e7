"""webhook secrets may be stored sealed

A sealed secret (AES-256-GCM, ``sealed:v1:`` + base64 of nonce, ciphertext and
tag) is longer than the 100 characters a plain ``whsec_`` secret needed.

Revision ID: 7c2f4b9e1d05
Revises: 5e1a7c3d9b20
Create Date: 2026-11-27 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c2f4b9e1d05'
down_revision: str | None = '5e1a7c3d9b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=100), type_=sa.String(length=200),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=200), type_=sa.String(length=100),
                              existing_nullable=False)
