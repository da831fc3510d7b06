"""Policies, guides and notices: the published ones public to read (公开), provincial admins to write."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from registry.deps import API_PREFIX, ContextDep, PublicationsWriter, SessionDep
from registry.publications import service
from registry.publications.models import (
    MAX_PAGE_SIZE,
    MAX_QUERY,
    PAGE_SIZE,
    PublicationCategory,
    PublicationCreate,
    PublicationPublic,
    PublicationsPublic,
    PublicationStatus,
    PublicationUpdate,
    PublicationWithdraw,
)

router = APIRouter(prefix=f"{API_PREFIX}/publications", tags=["publications"])

MAX_PAGE = 10_000
Search = Annotated[str | None, Query(max_length=MAX_QUERY, description="words of the title")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="the page, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="publications a page")]


def _page(rows_and_total: tuple[list, int]) -> PublicationsPublic:
    rows, total = rows_and_total
    return PublicationsPublic(data=[PublicationPublic.model_validate(row) for row in rows], count=total)


@router.get("", response_model=PublicationsPublic)
def list_published(session: SessionDep, category: PublicationCategory | None = None, q: Search = None,
                   page: PageNumber = 1, limit: PageSize = PAGE_SIZE) -> PublicationsPublic:
    """The published ones, newest first; `count` is the number matching over all pages."""
    return _page(service.list_publications(session, status=PublicationStatus.published, category=category, q=q,
                                           offset=(page - 1) * limit, limit=limit))


@router.get("/all", response_model=PublicationsPublic)
def list_all(session: SessionDep, principal: PublicationsWriter, status: PublicationStatus | None = None,
             category: PublicationCategory | None = None, q: Search = None, page: PageNumber = 1,
             limit: PageSize = PAGE_SIZE) -> PublicationsPublic:
    """Every publication, drafts and withdrawn ones too, for the admins who write them."""
    return _page(service.list_publications(session, status=status, category=category, q=q,
                                           offset=(page - 1) * limit, limit=limit))


@router.get("/all/{publication_id:uuid}", response_model=PublicationPublic)
def get_any(publication_id: uuid.UUID, session: SessionDep, principal: PublicationsWriter) -> PublicationPublic:
    return service.get_publication(session, publication_id=publication_id)


@router.post("", response_model=PublicationPublic, status_code=status.HTTP_201_CREATED)
def create_publication(body: PublicationCreate, session: SessionDep, ctx: ContextDep,
                       principal: PublicationsWriter) -> PublicationPublic:
    return service.create_publication(session, ctx=ctx, principal=principal, data=body)


@router.get("/{publication_id:uuid}", response_model=PublicationPublic)
def get_published(publication_id: uuid.UUID, session: SessionDep) -> PublicationPublic:
    return service.get_published(session, publication_id=publication_id)


@router.patch("/{publication_id:uuid}", response_model=PublicationPublic)
def update_publication(publication_id: uuid.UUID, body: PublicationUpdate, session: SessionDep, ctx: ContextDep,
                       principal: PublicationsWriter) -> PublicationPublic:
    return service.update_publication(session, ctx=ctx, principal=principal, publication_id=publication_id,
                                      data=body)


@router.post("/{publication_id:uuid}/publish", response_model=PublicationPublic)
def publish_publication(publication_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                        principal: PublicationsWriter) -> PublicationPublic:
    return service.publish_publication(session, ctx=ctx, principal=principal, publication_id=publication_id)


@router.post("/{publication_id:uuid}/withdraw", response_model=PublicationPublic)
def withdraw_publication(publication_id: uuid.UUID, body: PublicationWithdraw, session: SessionDep, ctx: ContextDep,
                         principal: PublicationsWriter) -> PublicationPublic:
    return service.withdraw_publication(session, ctx=ctx, principal=principal, publication_id=publication_id,
                                        data=body)
