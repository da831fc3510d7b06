"""Readings pushed by a device (HTTP or the MQTT bridge): checked one by one, refusals counted, the accepted ones
written set-wise in one transaction with the device's newest values and its highest seq.

Readings are telemetry, not registry writes: they go through no journal unit, so there is no audit entry and no
outbox event per reading. What the audit trail records is who registered, rotated and revoked the device that
sends them; a refused credential is audited by the app's 401 handler (counted per client).
"""
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import Session

from registry.context import TenantContext
from registry.equipment import credentials, writes
from registry.equipment.models import (
    CYCLE_METRICS,
    PHYSICAL_RANGE,
    REFUSAL_REASONS,
    Device,
    DeviceStatus,
    IngestResult,
    ReadingIn,
)
from registry.errors import DomainError

MAX_AGE = timedelta(hours=24)
MAX_AHEAD = timedelta(minutes=5)  # clock skew of a device
_RANGES = {metric.value: bounds for metric, bounds in PHYSICAL_RANGE.items()}
_CYCLES = {metric.value for metric in CYCLE_METRICS}
_SQLITE_WRITERS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_GUARD = threading.Lock()
# built once, like the writes: none is rebuilt or re-keyed for the statement cache per batch
_DEVICES = Device.__table__
_THIS_DEVICE = _DEVICES.c.id == bindparam("b_device_id")
_LOCK_DEVICE = select(_DEVICES).where(_THIS_DEVICE).with_for_update()
_TOUCH_DEVICE = update(_DEVICES).where(_THIS_DEVICE).values(last_seq=_DEVICES.c.last_seq)


class DeviceUnauthorized(DomainError):
    """Unknown device, wrong or rotated credential, revoked device: one answer, so none of them can be told apart."""
    status, title = 401, "unauthorized"

    def __init__(self):
        super().__init__("authorization", "device_credential", "a valid device credential is required")


def authenticate(session: Session, *, ctx: TenantContext, device_id: uuid.UUID, credential: str | None,
                 readings: int):
    """The active device the credential belongs to (a row of its table), locked until the batch commits (its seq
    moves on). Call it first in the session's transaction: on SQLite its first statement takes the write lock."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # no row locks: a first statement that writes waits for the database lock, and so reads nothing stale
        connection.execute(_TOUCH_DEVICE, {"b_device_id": device_id})
    device = connection.execute(_LOCK_DEVICE, {"b_device_id": device_id}).first()
    valid = credential is not None and credentials.matches(credential, device.credential_digest if device else "")
    if device is None or not valid or device.status != DeviceStatus.active:
        reason = "revoked" if valid and device is not None else "unauthorized"
        ctx.metrics.equipment.refused.labels(reason).inc(readings)
        raise DeviceUnauthorized()
    return device


def sort_out(device, readings: list[ReadingIn], now: datetime) -> tuple[list[dict], Counter]:
    """The readings to keep, as rows, and the count of the refused ones per reason; in seq order."""
    refused: Counter = Counter()
    rows, high, device_id = [], device.last_seq, device.id
    oldest, latest = now - MAX_AGE, now + MAX_AHEAD
    for reading in sorted(readings, key=lambda r: r.seq):
        metric, at, value = reading.metric, reading.at, reading.value
        bounds = _RANGES.get(metric)
        if reading.seq <= high:
            refused["replayed"] += 1
        elif not oldest <= at <= latest:
            refused["too_old"] += 1
        elif bounds is None:
            refused["unknown_metric"] += 1
        elif not bounds[0] <= value <= bounds[1]:  # NaN fails too
            refused["out_of_range"] += 1
        elif reading.cycle is None and metric in _CYCLES:
            refused["missing_cycle"] += 1
        else:  # `at` keeps its offset: the column stores it in UTC
            rows.append({"device_id": device_id, "seq": reading.seq, "at": at, "metric": metric, "value": value,
                         "cycle": reading.cycle})
            high = reading.seq
    return rows, refused


@contextmanager
def _one_writer(session: Session) -> Iterator[None]:
    """On SQLite, this process's batches queue on a lock instead of polling for the database's write lock (its
    busy handler sleeps in steps of up to 100 ms); PostgreSQL locks only the device's row."""
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITERS_GUARD:
        lock = _SQLITE_WRITERS.setdefault(engine, threading.Lock())
    with lock:
        try:
            yield
        except BaseException:
            session.rollback()  # before the next writer goes
            raise


def ingest(ctx: TenantContext, session: Session, *, device_id: uuid.UUID, credential: str | None,
           readings: list[ReadingIn] | list[dict], now: datetime) -> IngestResult:
    """Check and keep a device's batch: one transaction of a few statements whatever the batch's size. The
    session must not have read yet in its transaction (see `authenticate`). Readings may come as dicts of the
    same fields (the MQTT bridge's decoded JSON); a malformed one raises pydantic's ValidationError."""
    readings = [r if isinstance(r, ReadingIn) else ReadingIn.model_validate(r) for r in readings]
    with _one_writer(session):
        device = authenticate(session, ctx=ctx, device_id=device_id, credential=credential, readings=len(readings))
        rows, refused = sort_out(device, readings, now.astimezone(UTC))
        if rows:  # at most 500 rows: cheaper in one statement than through bulk_insert's COPY and staging table
            writes.keep(session.connection(), device.id, rows)
        session.commit()  # telemetry commits on its own: see the module's docstring
    metrics = ctx.metrics.equipment
    if rows:
        metrics.readings.labels(device.kind).inc(len(rows))
    for reason, count in refused.items():
        metrics.refused.labels(reason).inc(count)
    return IngestResult(accepted=len(rows), refused={reason: refused.get(reason, 0) for reason in REFUSAL_REASONS})
