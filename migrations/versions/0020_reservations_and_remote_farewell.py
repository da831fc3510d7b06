"""reservations and remote farewell

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 15:12:48.681497
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bookable_resources',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=False),
    sa.Column('closes_at', sa.Time(), nullable=False),
    sa.Column('weekdays', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('advance_days', sa.Integer(), nullable=False),
    sa.Column('service_item_id', sa.Uuid(), nullable=True),
    sa.Column('free_by_policy', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 1', name='ck_bookable_resources_capacity'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_items.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bookable_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookable_resources_institution_id'), ['institution_id'], unique=False)

    op.create_table('resource_slots',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('resource_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name='ck_resource_slots_within_capacity'),
    sa.ForeignKeyConstraint(['resource_id'], ['bookable_resources.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resource_id', 'starts_at', name='uq_resource_slots_start')
    )
    with op.batch_alter_table('resource_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_slots_resource_id'), ['resource_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('resource_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('slot_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('hold_until', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('owner_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('for_name_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('for_name_masked', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('for_phone_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('for_phone_masked', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('service_item_id', sa.Uuid(), nullable=True),
    sa.Column('fee_fen', sa.Integer(), nullable=True),
    sa.Column('free_by_policy', sa.Boolean(), nullable=False),
    sa.Column('query_code_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.ForeignKeyConstraint(['resource_id'], ['bookable_resources.id'], ),
    sa.ForeignKeyConstraint(['slot_id'], ['resource_slots.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_owner_subject'), ['owner_subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_query_code_digest'), ['query_code_digest'], unique=True)
        batch_op.create_index(batch_op.f('ix_bookings_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_status'), ['status'], unique=False)

    op.create_table('remote_farewells',
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('join_link_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starts_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('booking_id')
    )
    op.create_table('farewell_invitations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('name_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name_masked', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('phone_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone_masked', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('code_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['remote_farewells.booking_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('farewell_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_farewell_invitations_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_farewell_invitations_code_digest'), ['code_digest'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('farewell_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_farewell_invitations_code_digest'))
        batch_op.drop_index(batch_op.f('ix_farewell_invitations_booking_id'))

    op.drop_table('farewell_invitations')
    op.drop_table('remote_farewells')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_status'))
        batch_op.drop_index(batch_op.f('ix_bookings_starts_at'))
        batch_op.drop_index(batch_op.f('ix_bookings_slot_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_resource_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_query_code_digest'))
        batch_op.drop_index(batch_op.f('ix_bookings_owner_subject'))
        batch_op.drop_index(batch_op.f('ix_bookings_institution_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('resource_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_slots_resource_id'))

    op.drop_table('resource_slots')
    with op.batch_alter_table('bookable_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookable_resources_institution_id'))

    op.drop_table('bookable_resources')
