"""cremation certificates: a check code (查验码) each, existing certificates given one

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:45:00
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as registry.cremations.qr at the time of writing: a migration never imports code that may change later
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table('cremation_certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    certificates = sa.table('cremation_certificates', sa.column('id', sa.Uuid()), sa.column('check_code', sa.String()))
    connection = op.get_bind()
    for (certificate_id,) in connection.execute(sa.select(certificates.c.id)).all():
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        connection.execute(certificates.update().where(certificates.c.id == certificate_id).values(check_code=code))
    with op.batch_alter_table('cremation_certificates', schema=None) as batch_op:
        batch_op.alter_column('check_code', existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('cremation_certificates', schema=None) as batch_op:
        batch_op.drop_column('check_code')
