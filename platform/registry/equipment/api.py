"""Devices of an institution (its staff and the province), the readings devices push (their own credential), and
the link of a cremation to the cremator cycle that performed it."""
import functools
import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, status

from registry.cremations.models import CremationPublic
from registry.db_types import utcnow
from registry.deps import API_PREFIX, ContextDep, CremationsWriter, SessionDep, require
from registry.equipment import cycles, service
from registry.equipment.ingest import ingest
from registry.equipment.models import (
    DeviceCreate,
    DeviceHealth,
    DevicePublic,
    DevicesPublic,
    DeviceWithCredential,
    IngestResult,
    ReadingsBatch,
)
from registry.security.permissions import Permission

router = APIRouter(prefix=API_PREFIX, tags=["equipment"])
EquipmentManager = require(Permission.equipment_manage)
SCHEME = "device "


@router.post("/institutions/{institution_id}/devices", response_model=DeviceWithCredential,
             status_code=status.HTTP_201_CREATED)
def register_device(institution_id: uuid.UUID, body: DeviceCreate, session: SessionDep, ctx: ContextDep,
                    principal: EquipmentManager) -> DeviceWithCredential:
    """Register a device; the answer holds its credential, shown this once."""
    return service.register_device(session, ctx=ctx, principal=principal, institution_id=institution_id, data=body)


@router.get("/institutions/{institution_id}/devices", response_model=DevicesPublic)
def list_devices(institution_id: uuid.UUID, session: SessionDep, principal: EquipmentManager) -> DevicesPublic:
    devices = service.list_devices(session, principal=principal, institution_id=institution_id)
    return DevicesPublic(data=devices, count=len(devices))


@router.get("/devices/{device_id}", response_model=DeviceHealth)
def get_device(device_id: uuid.UUID, session: SessionDep, principal: EquipmentManager) -> DeviceHealth:
    return service.device_health(session, principal=principal, device_id=device_id)


@router.post("/devices/{device_id}/credential", response_model=DeviceWithCredential)
def rotate_credential(device_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                      principal: EquipmentManager) -> DeviceWithCredential:
    """A new credential; the old one is refused from now on."""
    return service.rotate_credential(session, ctx=ctx, principal=principal, device_id=device_id)


@router.post("/devices/{device_id}/revoke", response_model=DevicePublic)
def revoke_device(device_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: EquipmentManager) -> DevicePublic:
    return service.revoke_device(session, ctx=ctx, principal=principal, device_id=device_id)


@router.post("/devices/{device_id}/readings", response_model=IngestResult,
             responses={401: {"description": "No valid device credential"}})
async def push_readings(device_id: uuid.UUID, body: ReadingsBatch, session: SessionDep, ctx: ContextDep,
                        authorization: Annotated[str | None, Header(description="Device <credential>")] = None,
                        ) -> IngestResult:
    """A device's batch of readings (`Authorization: Device <credential>`); refused readings are counted by
    reason, and a wrong, rotated or revoked credential refuses the batch (401)."""
    credential = authorization[len(SCHEME):].strip() if authorization and authorization.lower().startswith(SCHEME) else None
    # async, with the database work in one worker thread: a sync route also hops threads to check its answer
    return await anyio.to_thread.run_sync(functools.partial(
        ingest, ctx, session, device_id=device_id, credential=credential, readings=body.readings, now=utcnow()))


@router.post("/cases/{case_id}/cremation/cycle", response_model=CremationPublic, tags=["cremations"])
def link_cremation_cycle(case_id: uuid.UUID, body: cycles.CycleLink, session: SessionDep, ctx: ContextDep,
                         principal: CremationsWriter) -> CremationPublic:
    """Link the cremation to the cremator cycle that performed it; the answer shows the cycle's real times."""
    return CremationPublic.model_validate(
        cycles.link_cycle(session, ctx=ctx, principal=principal, case_id=case_id, data=body))
