"""A province's own figures: its outbox applied to its own copy of the national records and counters by the very
projection the ministry runs on the batches it receives (registry.national.projection), so the province's
statistics, indicators and KPIs are computed as the ministry computes them for it, and stay readable while the
ministry is unreachable. Cross-province matches stay the ministry's (they come back over the exchange).

Run as one of the province's sweeps (registry.sweeps): every round applies what the outbox gained since, a unit of
write per 1,000 events, and moves the cursor in the same transaction, so a crash only means the next round
applies the rest. The copy holds no name and no ID number, like the ministry's.
"""
import json
from datetime import datetime

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel, col, select

from registry.db_types import ChinaTime, UTCDateTime, utcnow
from registry.deps import API_PREFIX, FiguresReader, SessionDep
from registry.exchange.models import BatchEvent
from registry.journal import Journal
from registry.national import projection
from registry.outbox.models import OutboxEvent

ACTOR = "system:own-figures"
BATCH = 1000


class OwnFiguresCursor(SQLModel, table=True):
    """How far the province's outbox was applied to its own figures (one row)."""

    __tablename__ = "own_figures_cursor"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    applied_seq: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)


class FiguresAsOf(BaseModel):
    """Up to which outbox event, and when, the province's figures were brought up to date."""

    applied_seq: int
    outbox_head: int
    updated_at: ChinaTime | None


def catch_up(session: Session, journal: Journal, *, province: str, province_code: str, now: datetime | None = None,
             batch: int = BATCH) -> int:
    """Apply every outbox event past the cursor to the figures of `province`; how many were applied."""
    applied = 0
    while True:
        moment = now or utcnow()
        with journal.write(session, actor=ACTOR):  # the write head: the outbox does not move meanwhile
            cursor = session.get(OwnFiguresCursor, 1) or OwnFiguresCursor(id=1, applied_seq=0, updated_at=moment)
            rows = session.exec(select(OutboxEvent).where(col(OutboxEvent.seq) > cursor.applied_seq)
                                .order_by(col(OutboxEvent.seq)).limit(batch)).all()
            if rows:
                events = [BatchEvent(seq=row.seq, event_id=row.event_id, at=row.at, event_type=row.event_type,
                                     aggregate_type=row.aggregate_type, aggregate_id=row.aggregate_id,
                                     payload=json.loads(row.payload)) for row in rows]
                projection.apply_events(session, province=province, province_code=province_code, events=events,
                                        now=moment)
                cursor.applied_seq = rows[-1].seq
            cursor.updated_at = moment
            session.add(cursor)
        applied += len(rows)
        if len(rows) < batch:
            return applied


def as_of(session: Session) -> FiguresAsOf:
    cursor = session.get(OwnFiguresCursor, 1)
    head = session.exec(select(OutboxEvent.seq).order_by(col(OutboxEvent.seq).desc()).limit(1)).first() or 0
    return FiguresAsOf(applied_seq=cursor.applied_seq if cursor else 0, outbox_head=head,
                       updated_at=cursor.updated_at if cursor else None)


router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national statistics"])


@router.get("/own-figures", response_model=FiguresAsOf)
def figures_as_of(session: SessionDep, _: FiguresReader) -> FiguresAsOf:
    """How current the province's own figures are: the outbox event they were brought up to, and when."""
    return as_of(session)


def mount(app: FastAPI) -> None:
    app.include_router(router)


def catch_up_tenant(session: Session, ctx) -> int:
    """The sweep's round (registry.sweeps): the tenant's own figures brought up to its outbox."""
    return catch_up(session, ctx.journal, province=ctx.settings.tenant_slug, province_code=ctx.settings.tenant_code)
