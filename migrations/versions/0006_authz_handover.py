"""authorization: the hand-over of a case's ashes; one interment per case and one case per plot or niche

The upgrade refuses to run while interments that break the new rules exist (the same case interred twice, or
two cases in one plot or niche): it names how many, and the registry's operators resolve them first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import registry.db_types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPEATED = {
    "cases interred more than once": "SELECT count(*) FROM (SELECT case_id FROM interments GROUP BY case_id "
                                     "HAVING count(*) > 1) AS repeated",
    "plots or niches holding more than one case": "SELECT count(*) FROM (SELECT institution_id, plot_or_niche "
                                                  "FROM interments GROUP BY institution_id, plot_or_niche "
                                                  "HAVING count(*) > 1) AS repeated",
}


def upgrade() -> None:
    connection = op.get_bind()
    for what, query in _REPEATED.items():
        found = connection.execute(sa.text(query)).scalar()
        if found:
            raise RuntimeError(f"{found} {what}: resolve them before this upgrade (one interment per case, "
                               "one case per plot or niche)")
    op.create_table('case_handovers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('ashes_destination_id', sa.Uuid(), nullable=False),
    sa.Column('from_institution_id', sa.Uuid(), nullable=False),
    sa.Column('to_institution_id', sa.Uuid(), nullable=False),
    sa.Column('handed_over_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ashes_destination_id'], ['ashes_destinations.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['from_institution_id'], ['institutions.id'], ),
    sa.ForeignKeyConstraint(['to_institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ashes_destination_id')
    )
    with op.batch_alter_table('case_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_handovers_case_id'), ['case_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_case_handovers_to_institution_id'), ['to_institution_id'], unique=False)

    with op.batch_alter_table('interments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interments_case_id'))
        batch_op.create_index(batch_op.f('ix_interments_case_id'), ['case_id'], unique=True)
        batch_op.create_index('uq_interments_plot', ['institution_id', 'plot_or_niche'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('interments', schema=None) as batch_op:
        batch_op.drop_index('uq_interments_plot')
        batch_op.drop_index(batch_op.f('ix_interments_case_id'))
        batch_op.create_index(batch_op.f('ix_interments_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('case_handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_handovers_to_institution_id'))
        batch_op.drop_index(batch_op.f('ix_case_handovers_case_id'))

    op.drop_table('case_handovers')
