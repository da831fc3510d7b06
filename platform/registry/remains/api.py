"""Remains and ashes of a case: routes parse and authorise, the service does the work."""
import uuid

from fastapi import APIRouter, status

from registry.deps import API_PREFIX, CasesReader, ContextDep, RemainsWriter, SessionDep
from registry.remains import service
from registry.remains.models import (
    AshesDestinationCreate,
    AshesDestinationPublic,
    HandoverPublic,
    IntermentCreate,
    IntermentPublic,
    IntermentsPublic,
    StorageCreate,
    StoragePublic,
    StorageRelease,
    StoragesPublic,
    TransportCreate,
    TransportPublic,
    TransportsPublic,
)

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["remains"])
CREATED = status.HTTP_201_CREATED


@router.post("/{case_id}/transports", response_model=TransportPublic, status_code=CREATED)
def record_transport(case_id: uuid.UUID, body: TransportCreate, session: SessionDep,
                     ctx: ContextDep, principal: RemainsWriter) -> TransportPublic:
    """Record a remains transport (遗体接运)."""
    return TransportPublic.model_validate(
        service.record_transport(session, ctx=ctx, principal=principal, case_id=case_id, data=body))


@router.get("/{case_id}/transports", response_model=TransportsPublic)
def list_transports(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> TransportsPublic:
    rows = service.list_transports(session, principal=principal, case_id=case_id)
    return TransportsPublic(data=[TransportPublic.model_validate(r) for r in rows], count=len(rows))


@router.post("/{case_id}/storages", response_model=StoragePublic, status_code=CREATED)
def record_storage(case_id: uuid.UUID, body: StorageCreate, session: SessionDep,
                   ctx: ContextDep, principal: RemainsWriter) -> StoragePublic:
    """Put the remains in a cabinet (遗体存放)."""
    return StoragePublic.model_validate(
        service.record_storage(session, ctx=ctx, principal=principal, case_id=case_id, data=body))


@router.get("/{case_id}/storages", response_model=StoragesPublic)
def list_storages(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> StoragesPublic:
    rows = service.list_storages(session, principal=principal, case_id=case_id)
    return StoragesPublic(data=[StoragePublic.model_validate(r) for r in rows], count=len(rows))


@router.post("/{case_id}/storages/{storage_id}/release", response_model=StoragePublic)
def release_storage(case_id: uuid.UUID, storage_id: uuid.UUID, body: StorageRelease, session: SessionDep,
                    ctx: ContextDep, principal: RemainsWriter) -> StoragePublic:
    return StoragePublic.model_validate(
        service.release_storage(session, ctx=ctx, principal=principal, case_id=case_id, storage_id=storage_id,
                                data=body))


@router.post("/{case_id}/ashes-destination", response_model=AshesDestinationPublic, status_code=CREATED)
def record_ashes_destination(case_id: uuid.UUID, body: AshesDestinationCreate, session: SessionDep,
                             ctx: ContextDep, principal: RemainsWriter) -> AshesDestinationPublic:
    """Record where the ashes went (骨灰去向); once per case."""
    return AshesDestinationPublic.model_validate(
        service.record_ashes_destination(session, ctx=ctx, principal=principal, case_id=case_id, data=body))


@router.get("/{case_id}/ashes-destination", response_model=AshesDestinationPublic)
def get_ashes_destination(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> AshesDestinationPublic:
    return AshesDestinationPublic.model_validate(
        service.get_ashes_destination(session, principal=principal, case_id=case_id))


@router.get("/{case_id}/handover", response_model=HandoverPublic)
def get_handover(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> HandoverPublic:
    """Who the case was handed over to with its ashes (骨灰移交): that institution reads it and inters them."""
    return HandoverPublic.model_validate(service.get_handover(session, principal=principal, case_id=case_id))


@router.post("/{case_id}/interments", response_model=IntermentPublic, status_code=CREATED)
def record_interment(case_id: uuid.UUID, body: IntermentCreate, session: SessionDep,
                     ctx: ContextDep, principal: RemainsWriter) -> IntermentPublic:
    """Record a burial (安葬) or a placement in a niche (安放)."""
    return IntermentPublic.model_validate(
        service.record_interment(session, ctx=ctx, principal=principal, case_id=case_id, data=body))


@router.get("/{case_id}/interments", response_model=IntermentsPublic)
def list_interments(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> IntermentsPublic:
    rows = service.list_interments(session, principal=principal, case_id=case_id)
    return IntermentsPublic(data=[IntermentPublic.model_validate(r) for r in rows], count=len(rows))
