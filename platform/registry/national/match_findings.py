"""What a province's reviewers found when they checked a cross-province pair (`cross_province_match.settled`):
kept on the ministry's pair, on the side of the province that sent it, so the ministry sees which pairs were
checked and how. A replay writes the same finding again; a pair the province is not part of is left alone."""
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import update
from sqlmodel import Session

from registry.exchange.models import BatchEvent
from registry.national.models import PersonMatch


class _Settled(BaseModel):
    model_config = ConfigDict(extra="ignore")

    match_id: int
    case_id: uuid.UUID
    finding: str
    settled_at: datetime


def apply(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime) -> None:
    settled = _Settled.model_validate(event.payload)
    pairs = PersonMatch.__table__.c
    connection = session.connection()
    for side in ("a", "b"):  # the province's own side of the pair, named by its case too
        connection.execute(update(PersonMatch.__table__).where(
            pairs.id == settled.match_id, pairs[f"province_{side}"] == province,
            pairs[f"case_{side}"] == settled.case_id).values(
            {f"finding_{side}": settled.finding[:20], f"settled_{side}_at": settled.settled_at}))


APPLY = {"cross_province_match.settled": apply}
