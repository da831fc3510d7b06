"""equipment telemetry: devices, readings, newest values; a cremation's cremator cycle

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30 18:28:42.505997
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('equipment_devices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('temperature_max_c', sa.Float(), nullable=True),
    sa.Column('cycle_max_minutes', sa.Integer(), nullable=True),
    sa.Column('emission_max_mg_m3', sa.Float(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('credential_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('equipment_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_devices_institution_id'), ['institution_id'], unique=False)

    op.create_table('equipment_latest',
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('cycle', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['equipment_devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'metric')
    )
    op.create_table('equipment_readings',
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('cycle', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['equipment_devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )
    with op.batch_alter_table('equipment_readings', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_readings_cycle', ['device_id', 'cycle'], unique=False,
                              sqlite_where=sa.text('cycle IS NOT NULL'), postgresql_where=sa.text('cycle IS NOT NULL'))

    with op.batch_alter_table('cremations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_device_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('cycle', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('cycle_started_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cycle_ended_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_cremations_cycle', ['cycle_device_id', 'cycle'])
        batch_op.create_foreign_key('fk_cremations_cycle_device_id', 'equipment_devices', ['cycle_device_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('cremations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cremations_cycle_device_id', type_='foreignkey')
        batch_op.drop_constraint('uq_cremations_cycle', type_='unique')
        batch_op.drop_column('cycle_ended_at')
        batch_op.drop_column('cycle_started_at')
        batch_op.drop_column('cycle')
        batch_op.drop_column('cycle_device_id')

    with op.batch_alter_table('equipment_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_equipment_readings_cycle')

    op.drop_table('equipment_readings')
    op.drop_table('equipment_latest')
    with op.batch_alter_table('equipment_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_devices_institution_id'))

    op.drop_table('equipment_devices')
