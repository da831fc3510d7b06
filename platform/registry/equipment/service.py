"""Register, list, rotate and revoke an institution's devices: every change is audited (no outbox event: devices
are the institution's own business, not the ministry's)."""
import uuid

from sqlmodel import Session, col, select

from registry.cases.access import check_institution_binding
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.equipment import credentials
from registry.equipment.models import (
    Device,
    DeviceCreate,
    DeviceHealth,
    DevicePublic,
    DeviceStatus,
    DeviceWithCredential,
    LatestPublic,
    LatestReading,
)
from registry.errors import Conflict, NotFound
from registry.institutions.service import get_institution
from registry.security.auth import Principal


def register_device(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                    data: DeviceCreate) -> DeviceWithCredential:
    """A new device of the institution, with its credential (shown in this answer only)."""
    check_institution_binding(principal, institution_id)
    credential = credentials.new_credential()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=institution_id)
        device = Device(institution_id=institution_id, kind=data.kind.value, model=data.model, location=data.location,
                        credential_digest=credentials.digest(credential), **data.limits.model_dump())
        session.add(device)
        public = DevicePublic.of(device)
        unit.record(action="device.register", object_type="device", object_id=device.id,
                    detail=public.model_dump(mode="json", include={"institution_id", "kind", "model", "location", "limits"}))
    return DeviceWithCredential(device=public, credential=credential)


def get_device(session: Session, *, principal: Principal, device_id: uuid.UUID) -> Device:
    """A device this principal may manage; a registrar sees only its own institution's."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("device_id", f"device {device_id} does not exist")
    check_institution_binding(principal, device.institution_id, field="device_id")
    return device


def list_devices(session: Session, *, principal: Principal, institution_id: uuid.UUID) -> list[DeviceHealth]:
    """The institution's devices, active first, each with its newest values."""
    check_institution_binding(principal, institution_id)
    get_institution(session, institution_id=institution_id)
    devices = session.exec(select(Device).where(Device.institution_id == institution_id)
                           .order_by(col(Device.status), col(Device.created_at))).all()
    latest: dict[uuid.UUID, list[LatestReading]] = {}
    if devices:
        for row in session.exec(select(LatestReading).where(col(LatestReading.device_id).in_([d.id for d in devices]))
                                .order_by(col(LatestReading.metric))):
            latest.setdefault(row.device_id, []).append(row)
    return [health(device, latest.get(device.id, [])) for device in devices]


def health(device: Device, latest: list[LatestReading]) -> DeviceHealth:
    values = [LatestPublic(metric=row.metric, value=row.value, at=row.at, cycle=row.cycle) for row in latest]
    return DeviceHealth(**DevicePublic.of(device).model_dump(), latest=values,
                        last_reading_at=max((row.at for row in latest), default=None))


def device_health(session: Session, *, principal: Principal, device_id: uuid.UUID) -> DeviceHealth:
    device = get_device(session, principal=principal, device_id=device_id)
    return health(device, list(session.exec(select(LatestReading).where(LatestReading.device_id == device.id)
                                            .order_by(col(LatestReading.metric)))))


def _active(session: Session, principal: Principal, device_id: uuid.UUID) -> Device:
    device = get_device(session, principal=principal, device_id=device_id)
    if device.status == DeviceStatus.revoked:
        raise Conflict("device_id", "device_revoked", f"device {device_id} is revoked")
    return device


def rotate_credential(session: Session, *, ctx: TenantContext, principal: Principal,
                      device_id: uuid.UUID) -> DeviceWithCredential:
    """A new credential for the device; the old one stops working with this answer."""
    credential = credentials.new_credential()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        device = _active(session, principal, device_id)
        device.credential_digest = credentials.digest(credential)
        session.add(device)
        unit.record(action="device.rotate_credential", object_type="device", object_id=device.id)
    return DeviceWithCredential(device=DevicePublic.of(device), credential=credential)


def revoke_device(session: Session, *, ctx: TenantContext, principal: Principal, device_id: uuid.UUID) -> DevicePublic:
    """The device writes nothing more and leaves /metrics; its readings stay for the record."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        device = _active(session, principal, device_id)
        device.status, device.revoked_at = DeviceStatus.revoked.value, utcnow()
        session.add(device)
        unit.record(action="device.revoke", object_type="device", object_id=device.id)
    return DevicePublic.of(device)
