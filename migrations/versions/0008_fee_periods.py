"""service_items: a service has one price on any day (one open price per service, periods in date order)

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30 10:00:00.000000
"""
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("effective_to IS NULL")


# the columns read and written here, typed so that SQLite hands back dates and uuids like PostgreSQL
_items = sa.table('service_items', sa.column('id', sa.Uuid()), sa.column('institution_id', sa.Uuid()),
                  sa.column('name', sa.String()), sa.column('effective_from', sa.Date()),
                  sa.column('effective_to', sa.Date()), sa.column('created_at', sa.DateTime()))


def _end_superseded_open_prices(connection) -> None:
    """Before this revision a new price left the old one open: end each the day before the next one starts."""
    rows = connection.execute(
        sa.select(_items.c.id, _items.c.institution_id, _items.c.name, _items.c.effective_from)
        .where(_items.c.effective_to.is_(None))
        .order_by(_items.c.institution_id, _items.c.name, _items.c.effective_from, _items.c.created_at)).all()
    for row, following in zip(rows, rows[1:]):
        if (row.institution_id, row.name) == (following.institution_id, following.name):
            # two prices opened on the same day keep that day: the date-order check still holds
            last_day = max(following.effective_from - timedelta(days=1), row.effective_from)
            connection.execute(sa.update(_items).where(_items.c.id == row.id).values(effective_to=last_day))


def upgrade() -> None:
    _end_superseded_open_prices(op.get_bind())
    with op.batch_alter_table('service_items', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_service_items_date_order',
                                         'effective_to IS NULL OR effective_to >= effective_from')
        batch_op.create_index('uq_service_items_open_price', ['institution_id', 'name'], unique=True,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    with op.batch_alter_table('service_items', schema=None) as batch_op:
        batch_op.drop_index('uq_service_items_open_price')
        batch_op.drop_constraint('ck_service_items_date_order', type_='check')
