"""Writing a batch's accepted readings, the device's newest values and its highest seq: on PostgreSQL one
statement (arrays unnested, data-modifying CTEs), one round trip whatever the batch's size; on SQLite, where
round trips cost nothing, three Core statements. Neither is rebuilt per batch."""
import uuid

from sqlalchemy import Connection, bindparam, insert, text, update
from sqlalchemy.dialects import sqlite

from registry.equipment.models import Device, LatestReading, Reading

_DEVICES, _LATEST = Device.__table__, LatestReading.__table__
_INSERT_READINGS = insert(Reading.__table__)
_MOVE_SEQ = update(_DEVICES).where(_DEVICES.c.id == bindparam("b_device_id")).values(last_seq=bindparam("b_last_seq"))
_SQLITE_UPSERT = sqlite.insert(_LATEST)
_SQLITE_UPSERT = _SQLITE_UPSERT.on_conflict_do_update(
    index_elements=["device_id", "metric"], set_={name: _SQLITE_UPSERT.excluded[name] for name in ("seq", "at", "value", "cycle")})
_COLUMNS = "seq bigint[], at timestamptz[], metric varchar[], value float8[], cycle varchar[]"
_PG_KEEP = text("""
WITH readings AS (
    INSERT INTO equipment_readings (device_id, seq, at, metric, value, cycle)
    SELECT CAST(:device_id AS uuid), r.* FROM unnest(CAST(:seqs AS bigint[]), CAST(:ats AS timestamptz[]),
        CAST(:metrics AS varchar[]), CAST(:vals AS float8[]), CAST(:cycles AS varchar[])) AS r
), latest AS (
    INSERT INTO equipment_latest (device_id, seq, at, metric, value, cycle)
    SELECT CAST(:device_id AS uuid), l.* FROM unnest(CAST(:l_seqs AS bigint[]), CAST(:l_ats AS timestamptz[]),
        CAST(:l_metrics AS varchar[]), CAST(:l_vals AS float8[]), CAST(:l_cycles AS varchar[])) AS l
    ON CONFLICT (device_id, metric) DO UPDATE
        SET seq = excluded.seq, at = excluded.at, value = excluded.value, cycle = excluded.cycle
)
UPDATE equipment_devices SET last_seq = :last_seq WHERE id = CAST(:device_id AS uuid)
""")


def _arrays(rows: list[dict], prefix: str = "") -> dict:
    return {f"{prefix}seqs": [r["seq"] for r in rows], f"{prefix}ats": [r["at"] for r in rows],
            f"{prefix}metrics": [r["metric"] for r in rows], f"{prefix}vals": [r["value"] for r in rows],
            f"{prefix}cycles": [r["cycle"] for r in rows]}


def keep(connection: Connection, device_id: uuid.UUID, rows: list[dict]) -> None:
    """Write `rows` (in seq order, all of the device) in the open transaction."""
    newest = list({row["metric"]: row for row in rows}.values())  # the last of each metric wins
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_KEEP, {"device_id": device_id, "last_seq": rows[-1]["seq"], **_arrays(rows),
                                      **_arrays(newest, "l_")})
        return
    connection.execute(_INSERT_READINGS, rows)
    connection.execute(_SQLITE_UPSERT, newest)
    connection.execute(_MOVE_SEQ, {"b_device_id": device_id, "b_last_seq": rows[-1]["seq"]})
