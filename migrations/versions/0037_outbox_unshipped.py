"""the outbox's events still to ship are indexed apart (a partial index on seq), so that finding the next batch and
marking it shipped cost the batch, not every event shipped before it

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-01 10:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0037'
down_revision: str | None = '0036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSHIPPED = sa.text("shipped_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_outbox_events_unshipped", "outbox_events", ["seq"], unique=False,
                    postgresql_where=_UNSHIPPED, sqlite_where=_UNSHIPPED)


def downgrade() -> None:
    op.drop_index("ix_outbox_events_unshipped", table_name="outbox_events")
