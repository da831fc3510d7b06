"""a tenant's status (suspended or active, and its database's incarnation); the ministry receives each province's
outbox in epochs, one per incarnation, and closes an offboarded province's

Revision ID: 0033
Revises: 0030
Create Date: 2026-11-30 22:40:00
"""
import uuid
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import registry.db_types

revision: str = '0033'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, primary key before, primary key after)
_KEYS = (("exchange_cursors", ["province_slug"], ["province_slug", "epoch"]),
         ("national_events", ["province_slug", "province_seq"], ["province_slug", "epoch", "province_seq"]))


def upgrade() -> None:
    status = op.create_table(
        'tenant_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('since', registry.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('incarnation', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    # the database's one row: active, and an incarnation of its own (a re-provisioned tenant gets another)
    op.bulk_insert(status, [{"id": 1, "state": "active", "reason": None, "since": datetime.now(UTC),
                             "incarnation": uuid.uuid4().hex}])
    with op.batch_alter_table('exchange_cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.Integer(), autoincrement=False, nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('incarnation', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('closed_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('national_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.Integer(), autoincrement=False, nullable=False, server_default='1'))
    for table, _, after in _KEYS:
        _primary_key(table, after)
    for table, _, _ in _KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('epoch', server_default=None, existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    later = op.get_bind().execute(sa.text("SELECT count(*) FROM exchange_cursors WHERE epoch > 1")).scalar_one()
    if later:
        raise RuntimeError("provinces re-provisioned after being offboarded sent later exchange epochs: the schema "
                           "before 0033 cannot hold them; restore a backup instead of downgrading")
    for table, before, _ in _KEYS:
        _primary_key(table, before)
    with op.batch_alter_table('national_events', schema=None) as batch_op:
        batch_op.drop_column('epoch')
    with op.batch_alter_table('exchange_cursors', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('incarnation')
        batch_op.drop_column('epoch')
    op.drop_table('tenant_status')


def _primary_key(table: str, columns: list[str]) -> None:
    """Replace the table's primary key (PostgreSQL names it <table>_pkey; SQLite copies the table)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, columns)
        return
    with warnings.catch_warnings():
        # SQLAlchemy notes that the copy's key differs from the table's: that is the change
        warnings.filterwarnings("ignore", "Table '_alembic_tmp_", category=sa.exc.SAWarning)
        with op.batch_alter_table(table, schema=None, recreate="always") as batch_op:
            batch_op.create_primary_key(f"{table}_pkey", columns)
