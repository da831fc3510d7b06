"""online approvals with steps, attachments and transport permits

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 15:15:37.333716
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types  # noqa: F401

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('approvals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sa.Enum('facility', 'transport', name='approvalkind'), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'refused', 'reviewed', 'approved', 'rejected', name='approvalstatus'), nullable=False),
    sa.Column('owner_subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('query_code_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('to_region', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('facility_type', sa.Enum('cemetery', 'funeral_home', 'columbarium', name='facilitytype'), nullable=True),
    sa.Column('change_kind', sa.Enum('build', 'expand', 'alter', name='changekind'), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('id_number_index', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('details_cipher', sa.Text(), nullable=False),
    sa.Column('submitted_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('query_code_digest')
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_id_number_index'), ['id_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_owner_subject'), ['owner_subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_status'), ['status'], unique=False)

    op.create_table('approval_attachments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('approval_id', sa.Uuid(), nullable=False),
    sa.Column('media_type', sa.Enum('pdf', 'jpeg', 'png', name='attachmenttype'), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sm3', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('uploaded_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_attachments_approval_id'), ['approval_id'], unique=False)

    op.create_table('approval_steps',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('approval_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'refused', 'reviewed', 'approved', 'rejected', name='approvalstatus'), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remark', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_steps_approval_id'), ['approval_id'], unique=False)

    op.create_table('transport_permits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('approval_id', sa.Uuid(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('check_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('issued_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('to_region', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('vehicle_plate', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('approval_id'),
    sa.UniqueConstraint('number')
    )


def downgrade() -> None:
    op.drop_table('transport_permits')
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_steps_approval_id'))

    op.drop_table('approval_steps')
    with op.batch_alter_table('approval_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_attachments_approval_id'))

    op.drop_table('approval_attachments')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_status'))
        batch_op.drop_index(batch_op.f('ix_approvals_owner_subject'))
        batch_op.drop_index(batch_op.f('ix_approvals_kind'))
        batch_op.drop_index(batch_op.f('ix_approvals_id_number_index'))
        batch_op.drop_index(batch_op.f('ix_approvals_due_on'))

    op.drop_table('approvals')
    # PostgreSQL keeps enum types after their tables are dropped
    for enum_name in ("approvalkind", "approvalstatus", "facilitytype", "changekind", "attachmenttype"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
