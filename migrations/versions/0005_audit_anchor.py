"""audit_entries: mac, the entry's HMAC-SM3 seal with the tenant's audit key (kept outside the database)

Entries written before this revision stay without a seal: the key never reaches the database, so a migration cannot
seal them. The first checkpoint outside the database (written by the first sealed write or verification after the
upgrade) records the last of them and its hash, which covers them: verification accepts a missing seal only up to
that checkpoint.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('mac')
