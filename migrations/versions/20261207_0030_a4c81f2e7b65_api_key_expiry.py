"""An API key may expire: expires_at, set when it is created (NULL: never)

Keys never expired, so a key handed to a partner for a project stayed valid until someone
remembered to revoke it. Existing keys keep no expiry.

Revision ID: a4c81f2e7b65
Revises: 5e1c7a9d3b24
Create Date: 2026-12-07 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = 'a4c81f2e7b65'
down_revision: str | None = '5e1c7a9d3b24'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
