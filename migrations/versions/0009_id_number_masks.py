"""masked ID numbers hide the sequence and check digit: stored masks and queued or received case events

The old mask kept the region and the last 4 characters (110105********3691); with the birth date shown
beside it that was the whole number. A resident ID number now keeps only its region, any other number its last
2 characters. Masks are rewritten from the stored masks, which still hold every character that stays visible.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:30:00.000000
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mask(old: str | None) -> str | None:
    # frozen copy of the rule at this revision (registry.security.masking may change later)
    if old is None:
        return None
    if len(old) == 18 and old[:6].isdigit():
        return old[:6] + "*" * 12
    return "*" * len(old) if len(old) < 8 else "*" * (len(old) - 2) + old[-2:]


def _remask_payloads(connection, table: str, key: str) -> None:
    rows = connection.execute(sa.text(f"SELECT {key}, payload FROM {table} WHERE event_type LIKE 'case.%'")).all()
    for row_key, payload in rows:
        data = json.loads(payload)
        if isinstance(data, dict) and isinstance(data.get("id_number"), str):
            data["id_number"] = _mask(data["id_number"])
            connection.execute(sa.text(f"UPDATE {table} SET payload = :payload WHERE {key} = :key"),
                               {"payload": json.dumps(data, ensure_ascii=False, sort_keys=table == "national_events"),
                                "key": row_key})


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, id_number_masked FROM cases WHERE id_number_masked IS NOT NULL")).all()
    for case_id, masked in rows:
        connection.execute(sa.text("UPDATE cases SET id_number_masked = :masked WHERE id = :id"),
                           {"masked": _mask(masked), "id": case_id})
    _remask_payloads(connection, "outbox_events", "seq")
    _remask_payloads(connection, "national_events", "event_id")


def downgrade() -> None:
    # the hidden characters are gone: masks stay as they are
    pass
