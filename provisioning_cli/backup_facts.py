"""What a backup records of its database and a restore checks again: row counts, the audit head, the migration."""
from typing import Any

from sqlalchemy import Connection, inspect, text

from registry.sequences import GENESIS_HASH


def database_facts(connection: Connection) -> dict[str, Any]:
    """Row counts per table, the audit chain's head and the migration, as `connection`'s transaction sees them."""
    tables = sorted(inspect(connection).get_table_names())
    counts = {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() for table in tables}
    head = connection.execute(text("SELECT audit_seq, audit_last_hash FROM tenant_sequences WHERE id = 1")).first()
    migration = sorted(row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version")))
    return {"row_counts": counts, "audit_head": {"seq": head[0] if head else 0, "hash": head[1] if head else GENESIS_HASH},
            "migration": migration}
