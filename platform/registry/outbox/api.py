"""Outbox events in tenant sequence order, read with a cursor by the exchange and connectors."""
from typing import Annotated

from fastapi import APIRouter, Query

from registry.deps import API_PREFIX, After, OutboxReader, SessionDep
from registry.outbox import service
from registry.outbox.models import OutboxEventsPublic

router = APIRouter(prefix=f"{API_PREFIX}/outbox", tags=["exchange"])


@router.get("", response_model=OutboxEventsPublic)
def list_outbox(session: SessionDep, _: OutboxReader, after: After = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> OutboxEventsPublic:
    events = service.list_events(session, after=after, limit=limit)
    return OutboxEventsPublic(data=events, count=len(events))
