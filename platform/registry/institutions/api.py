"""Institution directory and fees: public to read (公开), provincial admins to write."""
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from registry.deps import API_PREFIX, ContextDep, InstitutionsWriter, Offset, SessionDep
from registry.institutions import service
from registry.institutions.models import (
    InstitutionCreate,
    InstitutionPublic,
    InstitutionsPublic,
    InstitutionStatus,
    InstitutionType,
    InstitutionUpdate,
    ServiceItemCreate,
    ServiceItemEnd,
    ServiceItemPublic,
    ServiceItemsPublic,
)

router = APIRouter(prefix=f"{API_PREFIX}/institutions", tags=["institutions"])


@router.get("", response_model=InstitutionsPublic)
def list_institutions(session: SessionDep, type: InstitutionType | None = None, status: InstitutionStatus | None = None,
                      region_code: Annotated[str | None, Query(pattern=r"^\d{2,6}$")] = None,
                      q: Annotated[str | None, Query(max_length=50)] = None,
                      offset: Offset = 0,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> InstitutionsPublic:
    """The directory, filtered and paged; `count` is the number of matches over all pages."""
    filters = {"type": type, "status": status, "region_code": region_code, "q": q}
    rows = service.list_institutions(session, **filters, offset=offset, limit=limit)
    return InstitutionsPublic(data=rows, count=service.count_institutions(session, **filters))


@router.post("", response_model=InstitutionPublic, status_code=status.HTTP_201_CREATED)
def create_institution(body: InstitutionCreate, session: SessionDep, ctx: ContextDep,
                       principal: InstitutionsWriter) -> InstitutionPublic:
    return service.create_institution(session, ctx=ctx, principal=principal, data=body)


@router.get("/{institution_id}", response_model=InstitutionPublic)
def get_institution(institution_id: uuid.UUID, session: SessionDep) -> InstitutionPublic:
    return service.get_institution(session, institution_id=institution_id)


@router.patch("/{institution_id}", response_model=InstitutionPublic)
def update_institution(institution_id: uuid.UUID, body: InstitutionUpdate, session: SessionDep, ctx: ContextDep,
                       principal: InstitutionsWriter) -> InstitutionPublic:
    return service.update_institution(session, ctx=ctx, principal=principal, institution_id=institution_id, data=body)


@router.get("/{institution_id}/service-items", response_model=ServiceItemsPublic)
def list_service_items(institution_id: uuid.UUID, session: SessionDep, on: date | None = None,
                       history: bool = False) -> ServiceItemsPublic:
    rows = service.list_service_items(session, institution_id=institution_id, on=on, history=history)
    return ServiceItemsPublic(data=rows, count=len(rows))


@router.post("/{institution_id}/service-items", response_model=ServiceItemPublic,
             status_code=status.HTTP_201_CREATED)
def add_service_item(institution_id: uuid.UUID, body: ServiceItemCreate, session: SessionDep, ctx: ContextDep,
                     principal: InstitutionsWriter) -> ServiceItemPublic:
    return service.add_service_item(session, ctx=ctx, principal=principal, institution_id=institution_id, data=body)


@router.post("/{institution_id}/service-items/{item_id}/end", response_model=ServiceItemPublic)
def end_service_item(institution_id: uuid.UUID, item_id: uuid.UUID, body: ServiceItemEnd, session: SessionDep,
                     ctx: ContextDep, principal: InstitutionsWriter) -> ServiceItemPublic:
    return service.end_service_item(session, ctx=ctx, principal=principal, institution_id=institution_id,
                                    item_id=item_id, data=body)
