"""The statements the unit of write runs on PostgreSQL, built once: audit entry, outbox event and head in one
round trip, optionally only if the head is still what this process last left; advisory locks for claims."""
import hashlib

from sqlalchemy import bindparam, func, insert, select, text, update

from registry import sequences
from registry.audit.models import AuditEntry
from registry.outbox.models import OutboxEvent

# bind names carry a prefix per row: a_ the audit entry, o_ the outbox event, h_ the new head, x_ the expected one
AUDIT, EVENT, HEAD, EXPECTED = "a_", "o_", "h_", "x_"
_HEADS = sequences.TenantSequences.__table__


def params(**rows: dict) -> dict:
    """Bind values of rows given by prefix name: params(a_=entry, h_=head.values())."""
    return {prefix + name: value for prefix, row in rows.items() for name, value in row.items()}


def _bound_insert(table, prefix: str):
    return insert(table).values({column.name: bindparam(prefix + column.name, type_=column.type)
                                 for column in table.columns})


def _head_update():
    return update(_HEADS).where(_HEADS.c.id == 1).values(
        {name: bindparam(HEAD + name, type_=_HEADS.c[name].type) for name in sequences.COLUMNS})


def _write(*tables_and_prefixes):
    statement = _head_update()
    for table, prefix in tables_and_prefixes:
        statement = statement.add_cte(_bound_insert(table, prefix).cte(f"{table.name}_row"))
    return statement


def _write_if_unchanged(*tables_and_prefixes):
    """Advance the head only if it is still what the caller expects; the rows are inserted only if it was."""
    moved = _head_update().where(*(_HEADS.c[name] == bindparam(EXPECTED + name, type_=_HEADS.c[name].type)
                                   for name in sequences.COLUMNS)).returning(_HEADS.c.id).cte("head_row")
    statement = select(func.count()).select_from(moved)
    for table, prefix in tables_and_prefixes:
        values = select(*(bindparam(prefix + column.name, type_=column.type).label(column.name)
                          for column in table.columns)).select_from(moved)
        statement = statement.add_cte(insert(table).from_select([c.name for c in table.columns], values)
                                      .cte(f"{table.name}_row"))
    return statement


_ENTRY, _EVENT = (AuditEntry.__table__, AUDIT), (OutboxEvent.__table__, EVENT)
WRITE = {False: _write(_ENTRY), True: _write(_ENTRY, _EVENT)}  # keyed by "with an event"
WRITE_IF_UNCHANGED = {False: _write_if_unchanged(_ENTRY), True: _write_if_unchanged(_ENTRY, _EVENT)}


def lock_id(key: str) -> int:
    """A natural key as the 64-bit id of a PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


# PostgreSQL's lock table is the server's, shared by every tenant database on it and sized for about 64 locks per
# connection: a unit claiming more keys than this claims the whole key space with one lock instead
MAX_KEY_LOCKS = 64
# every claim holds this in share mode and a claim of the whole key space holds it alone: it waits for the units
# holding claims and keeps new ones out until it ends
ALL_KEYS = lock_id("claims:*")
# the claimed keys as one array parameter: a statement of thousands of placeholders would be parsed again by the
# driver at every batch; the share lock on ALL_KEYS is taken first (the CTE is read before any row is locked), then
# the keys in the subquery's order, so claims never deadlock
ADVISORY_LOCKS = text("WITH everything AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(:all_keys)) "
                      "SELECT count(pg_advisory_xact_lock(k)) FROM everything, "
                      "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS claimed")
ALL_KEYS_LOCK = text("SELECT pg_advisory_xact_lock(:all_keys)")
