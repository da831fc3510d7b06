"""Memorials: the family's pages under /my/memorials, the public's under /memorials, the review of held messages
under /memorial-messages."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from registry import errors, messages
from registry.deps import API_PREFIX, Citizen, ContextDep, MemorialsModerator, Offset, SessionDep
from registry.memorials import service
from registry.memorials.models import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    MemorialCreate,
    MemorialCreated,
    MemorialOwned,
    MemorialOwnedPage,
    MemorialPage,
    MemorialPublic,
    MemorialsPublic,
    MessageCreate,
    MessagePublic,
    MessagesForReview,
    Review,
)

router = APIRouter(prefix=API_PREFIX, tags=["memorials"])
GONE = {410: {"model": errors.ErrorBody, "description": "Removed by the family (kept for the retention period)"}}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items a page")]
Search = Annotated[str | None, Query(max_length=50, description="words of the deceased's name")]
Code = Annotated[str | None, Query(max_length=32, description="the invitation code of an invitation-only page")]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/my/memorials", response_model=MemorialCreated, status_code=status.HTTP_201_CREATED)
def create(body: MemorialCreate, session: SessionDep, ctx: ContextDep, principal: Citizen) -> MemorialCreated:
    return service.create(session, ctx=ctx, principal=principal, data=body)


@router.get("/my/memorials", response_model=list[MemorialOwned])
def list_own(session: SessionDep, principal: Citizen) -> list[MemorialOwned]:
    return [MemorialOwned.model_validate(row) for row in service.list_own(session, principal=principal)]


@router.get("/my/memorials/{memorial_id}", response_model=MemorialOwnedPage)
def read_own(memorial_id: uuid.UUID, session: SessionDep, principal: Citizen) -> MemorialOwnedPage:
    """The family's own page and its messages still up; another family's is not found."""
    return service.own_page(session, principal=principal, memorial_id=memorial_id)


@router.post("/my/memorials/{memorial_id}/remove", response_model=MemorialOwned, responses=GONE)
def remove(memorial_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: Citizen) -> MemorialOwned:
    return service.remove(session, ctx=ctx, principal=principal, memorial_id=memorial_id)


@router.post("/my/memorials/{memorial_id}/messages/{message_id}/remove", response_model=MessagePublic)
def remove_message(memorial_id: uuid.UUID, message_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                   principal: Citizen) -> MessagePublic:
    return service.remove_message(session, ctx=ctx, principal=principal, memorial_id=memorial_id, message_id=message_id)


@router.get("/memorials", response_model=MemorialsPublic)
def list_public(session: SessionDep, q: Search = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> MemorialsPublic:
    rows, total = service.list_public(session, q=q, offset=offset, limit=limit)
    return MemorialsPublic(data=[MemorialPublic.model_validate(row) for row in rows], count=total)


@router.get("/memorials/{memorial_id}", response_model=MemorialPage, responses=GONE)
def read(memorial_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep, code: Code = None) -> MemorialPage:
    """A page with its newest published messages; an invitation-only one needs `code`; a removed one is 410."""
    memorial = service.visible(session, ctx=ctx, memorial_id=memorial_id, code=code, client=client_of(request))
    return service.page_of(session, memorial)


@router.post("/memorials/{memorial_id}/messages", response_model=MessagePublic, status_code=status.HTTP_201_CREATED,
             responses={**GONE, 429: {"model": errors.ErrorBody, "description": "Too many messages from this client"}})
def post_message(memorial_id: uuid.UUID, body: MessageCreate, request: Request, session: SessionDep,
                 ctx: ContextDep, code: Code = None) -> MessagePublic | JSONResponse:
    """Anyone leaves a message or an offering (no sign-in); held for review when the word filter finds a word."""
    try:
        return service.post_message(session, ctx=ctx, memorial_id=memorial_id, code=code, client=client_of(request),
                                    data=body)
    except service.TooManyMessages:
        # answered here, not raised: every such refusal audited would let anyone grow the audit trail
        language = messages.language_of(request.headers.get("accept-language"))
        problem = errors.localize({"field": "body", "rule": "too_many_messages",
                                   "message": "too many messages from this client; try again later"}, language)
        return JSONResponse(errors.body(429, messages.title(429, language, "too many requests"), [problem]),
                            status_code=429, headers={"Retry-After": str(int(ctx.memorial_messages.window))})


@router.get("/memorial-messages/review", response_model=MessagesForReview)
def review_queue(session: SessionDep, principal: MemorialsModerator, offset: Offset = 0,
                 limit: Limit = PAGE_SIZE) -> MessagesForReview:
    """Messages held by the word filter, the oldest first."""
    rows, total = service.review_queue(session, offset=offset, limit=limit)
    return MessagesForReview(data=rows, count=total)


@router.post("/memorial-messages/{message_id}/review", response_model=MessagePublic)
def review(message_id: uuid.UUID, body: Review, session: SessionDep, ctx: ContextDep,
           principal: MemorialsModerator) -> MessagePublic:
    return service.review(session, ctx=ctx, principal=principal, message_id=message_id, decision=body.decision)
