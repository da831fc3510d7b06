"""A cremation linked to the cremator cycle that performed it: its real start and end, as the cremator measured
them (the first cycle_start and the last cycle_end reading of that cycle), shown beside the times staff recorded."""
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.cases import access
from registry.context import TenantContext
from registry.cremations.models import Cremation
from registry.cremations.service import find_cremation
from registry.equipment.models import CycleId, Device, DeviceKind, Metric, Reading
from registry.errors import Conflict, Invalid
from registry.security.auth import Principal


class CycleLink(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device_id: uuid.UUID
    cycle: CycleId


def cycle_times(session: Session, *, device_id: uuid.UUID, cycle: str) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a device's cycle from its readings; None where that reading never came."""
    rows = session.exec(select(Reading.metric, func.min(Reading.at), func.max(Reading.at))
                        .where(Reading.device_id == device_id, Reading.cycle == cycle,
                               col(Reading.metric).in_([Metric.cycle_start.value, Metric.cycle_end.value]))
                        .group_by(Reading.metric)).all()
    found = {metric: (first, last) for metric, first, last in rows}
    start, end = found.get(Metric.cycle_start.value), found.get(Metric.cycle_end.value)
    return (start[0] if start else None), (end[1] if end else None)


def link_cycle(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
               data: CycleLink) -> Cremation:
    """Link the case's cremation to a finished cycle of one of its institution's cremators."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        cremation = find_cremation(session, case_id=case.id)
        if cremation is None:
            raise Conflict("case_id", "cremation_required", f"case {case.id} has no cremation record")
        access.check_institution_binding(principal, cremation.institution_id)
        device = session.get(Device, data.device_id)
        if device is None or device.institution_id != cremation.institution_id:
            raise Invalid("device_id", "exists", f"the cremating institution has no device {data.device_id}")
        if device.kind != DeviceKind.cremator:
            raise Invalid("device_id", "device_kind", f"device {device.id} is a {device.kind}, not a cremator")
        started_at, ended_at = cycle_times(session, device_id=device.id, cycle=data.cycle)
        if started_at is None:
            raise Invalid("cycle", "cycle_unknown", f"device {device.id} reported no start of cycle {data.cycle}")
        if ended_at is None or ended_at < started_at:
            raise Invalid("cycle", "cycle_unfinished", f"cycle {data.cycle} has not ended")
        if started_at < case.death_at:
            raise Invalid("cycle", "after_death", "the cycle started before the death of the deceased")
        taken = session.exec(select(Cremation.case_id).where(Cremation.cycle_device_id == device.id,
                                                             Cremation.cycle == data.cycle,
                                                             Cremation.id != cremation.id)).first()
        if taken is not None:
            raise Conflict("cycle", "unique", f"cycle {data.cycle} already performed another cremation")
        previous = {"device_id": str(cremation.cycle_device_id) if cremation.cycle_device_id else None,
                    "cycle": cremation.cycle}
        cremation.cycle_device_id, cremation.cycle = device.id, data.cycle
        cremation.cycle_started_at, cremation.cycle_ended_at = started_at, ended_at
        session.add(cremation)
        unit.record(action="cremation.link_cycle", object_type="cremation", object_id=cremation.id,
                    detail={"device_id": str(device.id), "cycle": data.cycle, "started_at": started_at.isoformat(),
                            "ended_at": ended_at.isoformat(), "previous": previous})
    return cremation
