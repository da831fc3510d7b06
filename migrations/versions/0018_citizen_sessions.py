"""citizen sessions: a session's kind (staff of the workbench, or a citizen of the portal)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # sessions from before were all staff sessions
    with op.batch_alter_table('staff_sessions') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                   server_default='staff'))


def downgrade() -> None:
    with op.batch_alter_table('staff_sessions') as batch:
        batch.drop_column('kind')
