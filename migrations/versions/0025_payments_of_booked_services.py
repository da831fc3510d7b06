"""payments of booked services: one order per booking, the provider's notices (replay guard), daily reconciliations

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 18:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_notices',
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('notice_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('received_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    with op.batch_alter_table('payment_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_notices_notice_id'), ['notice_id'], unique=False)

    op.create_table('payment_reconciliations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('missing_at_provider', sa.Integer(), nullable=False),
    sa.Column('missing_locally', sa.Integer(), nullable=False),
    sa.Column('amount_mismatch', sa.Integer(), nullable=False),
    sa.Column('repaired', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('ran_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('ran_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_reconciliations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_reconciliations_day'), ['day'], unique=False)

    op.create_table('payment_orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('owner_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('pay_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('expires_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('paid_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refund_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('refunded_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id'),
    sa.UniqueConstraint('order_no'),
    sa.UniqueConstraint('refund_no')
    )
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_orders_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_owner_subject'), ['owner_subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_orders_status'))
        batch_op.drop_index(batch_op.f('ix_payment_orders_paid_at'))
        batch_op.drop_index(batch_op.f('ix_payment_orders_owner_subject'))
        batch_op.drop_index(batch_op.f('ix_payment_orders_institution_id'))

    op.drop_table('payment_orders')
    with op.batch_alter_table('payment_reconciliations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_reconciliations_day'))

    op.drop_table('payment_reconciliations')
    with op.batch_alter_table('payment_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_notices_notice_id'))

    op.drop_table('payment_notices')
