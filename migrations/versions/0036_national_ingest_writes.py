"""the national database writes less per event received: four indexes that no question uses are dropped, and the
statistics counters leave room on their pages so that adding to a counter rewrites neither of its indexes

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01 10:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED = (("ix_national_cases_province_code", "national_cases", "province_code"),
            ("ix_national_cases_status", "national_cases", "status"),
            ("ix_national_events_province_code", "national_events", "province_code"),
            ("ix_national_events_event_type", "national_events", "event_type"))


def upgrade() -> None:
    for name, table, _ in _DROPPED:
        op.drop_index(name, table_name=table)
    if op.get_context().dialect.name == "postgresql":
        # a counter's update stays on its page (a HOT update) when the page has room; pages written from now on
        # keep half of it free (existing ones get it at their next rewrite, e.g. VACUUM FULL)
        op.execute("ALTER TABLE national_counts SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE national_counts RESET (fillfactor)")
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column], unique=False)
