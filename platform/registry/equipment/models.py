"""Equipment of an institution (cremators, cold-storage units, emission monitors) and what they measure.

Accepted, stored and shown are separate classes. A device proves itself with a credential of its own, shown once
at registration or rotation; the registry keeps only its SM3 digest.
"""
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic import Field as Check
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import Name, rule_error


class DeviceKind(StrEnum):
    cremator = "cremator"
    cold_storage = "cold_storage"
    emission_monitor = "emission_monitor"


class DeviceStatus(StrEnum):
    active = "active"
    revoked = "revoked"


class Metric(StrEnum):
    temperature_c = "temperature_c"
    running = "running"
    door_open = "door_open"
    emission_mg_m3 = "emission_mg_m3"
    cycle_start = "cycle_start"
    cycle_end = "cycle_end"


# what a sensor can physically report; anything outside is a fault of the sensor, refused and counted
PHYSICAL_RANGE: dict[Metric, tuple[float, float]] = {
    Metric.temperature_c: (-60.0, 1400.0), Metric.emission_mg_m3: (0.0, 10000.0),
    Metric.running: (0.0, 1.0), Metric.door_open: (0.0, 1.0), Metric.cycle_start: (0.0, 1.0), Metric.cycle_end: (0.0, 1.0),
}
CYCLE_METRICS = frozenset({Metric.cycle_start, Metric.cycle_end})
# the limits each kind of device has; others are refused at registration
LIMITS_OF_KIND: dict[DeviceKind, frozenset[str]] = {
    DeviceKind.cremator: frozenset({"temperature_max_c", "cycle_max_minutes"}),
    DeviceKind.cold_storage: frozenset({"temperature_max_c"}),
    DeviceKind.emission_monitor: frozenset({"emission_max_mg_m3"}),
}
MAX_BATCH = 500
CycleId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature_max_c: float | None = Check(default=None, ge=-60, le=1400)
    cycle_max_minutes: int | None = Check(default=None, ge=1, le=24 * 60)
    emission_max_mg_m3: float | None = Check(default=None, ge=0, le=10000)


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: DeviceKind
    model: Name
    location: Name
    limits: Limits = Check(default_factory=Limits)

    @model_validator(mode="after")
    def _limits_of_kind(self):
        given = {name for name, value in self.limits.model_dump().items() if value is not None}
        foreign = sorted(given - LIMITS_OF_KIND[self.kind])
        if foreign:
            raise rule_error(f"limits.{foreign[0]}", "limit_of_kind", f"a {self.kind} has no limit {foreign[0]}")
        return self


class Device(SQLModel, table=True):
    __tablename__ = "equipment_devices"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    kind: str = Field(max_length=20)
    model: str = Field(max_length=100)
    location: str = Field(max_length=100)
    temperature_max_c: float | None = None
    cycle_max_minutes: int | None = None
    emission_max_mg_m3: float | None = None
    status: str = Field(default=DeviceStatus.active.value, max_length=10)
    # SM3 of the credential (registry.equipment.credentials); the credential itself is never stored
    credential_digest: str = Field(max_length=64)
    # the highest seq accepted: a reading at or below it is a replay
    last_seq: int = Field(default=-1, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


_CYCLE = sa.text("cycle IS NOT NULL")


class Reading(SQLModel, table=True):
    """One accepted reading, kept for trends and for a cremation's real times; telemetry, not a registry record."""
    __tablename__ = "equipment_readings"
    # only the few cycle readings are indexed (a cremation's cycle is looked up by them): other inserts skip it
    __table_args__ = (sa.Index("ix_equipment_readings_cycle", "device_id", "cycle", sqlite_where=_CYCLE,
                               postgresql_where=_CYCLE),)

    device_id: uuid.UUID = Field(foreign_key="equipment_devices.id", primary_key=True)
    seq: int = Field(primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime)
    metric: str = Field(max_length=20)
    value: float
    cycle: str | None = Field(default=None, max_length=64)


class LatestReading(SQLModel, table=True):
    """The newest reading per device and metric, written with every batch: what /metrics reads."""
    __tablename__ = "equipment_latest"

    device_id: uuid.UUID = Field(foreign_key="equipment_devices.id", primary_key=True)
    metric: str = Field(max_length=20, primary_key=True)
    seq: int = Field(sa_type=sa.BigInteger)
    at: datetime = Field(sa_type=UTCDateTime)
    value: float
    cycle: str | None = Field(default=None, max_length=64)


class ReadingIn(BaseModel):
    """One reading as a device sends it; the metric is checked per reading (an unknown one is counted)."""
    model_config = ConfigDict(extra="forbid")

    seq: int = Check(ge=0, le=2 ** 53 - 1)
    at: AwareDatetime
    metric: str = Check(max_length=40)
    value: float
    cycle: CycleId | None = None


class ReadingsBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    readings: list[ReadingIn] = Check(min_length=1, max_length=MAX_BATCH)


REFUSAL_REASONS = ("out_of_range", "replayed", "too_old", "unknown_metric", "missing_cycle")


class IngestResult(BaseModel):
    accepted: int
    refused: dict[str, int]


class DevicePublic(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    kind: DeviceKind
    model: str
    location: str
    limits: Limits
    status: DeviceStatus
    created_at: ChinaTime
    revoked_at: ChinaTime | None

    @classmethod
    def of(cls, device: Device) -> "DevicePublic":
        limits = Limits(temperature_max_c=device.temperature_max_c, cycle_max_minutes=device.cycle_max_minutes,
                        emission_max_mg_m3=device.emission_max_mg_m3)
        return cls(id=device.id, institution_id=device.institution_id, kind=device.kind, model=device.model,
                   location=device.location, limits=limits, status=device.status, created_at=device.created_at,
                   revoked_at=device.revoked_at)


class LatestPublic(BaseModel):
    metric: str
    value: float
    at: ChinaTime
    cycle: str | None


class DeviceHealth(DevicePublic):
    """A device with its newest values, as staff watch it."""
    latest: list[LatestPublic]
    last_reading_at: ChinaTime | None


class DevicesPublic(BaseModel):
    data: list[DeviceHealth]
    count: int


class DeviceWithCredential(BaseModel):
    """The answer to a registration or rotation: the credential is shown this once."""
    device: DevicePublic
    credential: str
