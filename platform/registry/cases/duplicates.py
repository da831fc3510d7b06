"""Likely duplicates of a death: the same ID number, or the same name and birth date with deaths close together."""
import uuid
from datetime import timedelta

from sqlalchemy import and_, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from registry.cases.models import Case, CaseFacts
from registry.context import TenantContext
from registry.errors import Conflict

WINDOW = timedelta(days=5)

# built once: the declaration path runs them on every request
_NO_CASE = uuid.UUID(int=0)  # "exclude nothing": never a real case id
_SAME_PERSON = and_(
    Case.deceased_name == bindparam("name"), Case.birth_date == bindparam("birth"),
    col(Case.death_at) >= bindparam("death_from"), col(Case.death_at) <= bindparam("death_to"),
)
_BY_PERSON = sa_select(Case.id, Case.id_number_index).where(_SAME_PERSON, Case.id != bindparam("exclude")).limit(2)
_BY_ID_OR_PERSON = (sa_select(Case.id, Case.id_number_index)
                    .where(or_(Case.id_number_index == bindparam("index"), _SAME_PERSON),
                           Case.id != bindparam("exclude")).limit(2))


def find(session: Session, *, ctx: TenantContext, facts: CaseFacts, exclude: uuid.UUID | None = None,
         index: str | None = None) -> tuple[uuid.UUID, str] | None:
    """The existing case and the rule it matches by, or None. One indexed query."""
    if index is None and facts.id_number:
        index = ctx.blind_index(facts.id_number)
    params = {"name": facts.deceased_name, "birth": facts.birth_date, "exclude": exclude or _NO_CASE,
              "death_from": facts.death_at - WINDOW, "death_to": facts.death_at + WINDOW}
    if index:
        matches = session.connection().execute(_BY_ID_OR_PERSON, {**params, "index": index}).all()
    else:
        matches = session.connection().execute(_BY_PERSON, params).all()
    for case_id, case_index in matches:
        if index and case_index == index:
            return case_id, "id_number"
    return (matches[0][0], "name_birth_death") if matches else None


def same_person(mine: CaseFacts, theirs: CaseFacts) -> bool:
    """The name-and-dates rule of `find`, between two declarations not yet written."""
    return (mine.deceased_name == theirs.deceased_name and mine.birth_date == theirs.birth_date
            and abs(mine.death_at - theirs.death_at) <= WINDOW)


def claims(ctx: TenantContext, facts: CaseFacts, index: str | None = None) -> list[str]:
    """What two writers must not check for duplicates at the same time: the same ID number, the same person."""
    keys = [f"case-person:{facts.deceased_name}|{facts.birth_date.isoformat()}"]
    if facts.id_number:
        keys.append(f"case-id-number:{index or ctx.blind_index(facts.id_number)}")
    return keys


def refuse(session: Session, ctx: TenantContext, facts: CaseFacts, exclude: uuid.UUID | None = None,
           index: str | None = None) -> None:
    refuse_found(find(session, ctx=ctx, facts=facts, exclude=exclude, index=index))


def refuse_found(found: tuple[uuid.UUID, str] | None) -> None:
    """409 naming the existing case, when there is one."""
    if found:
        existing_id, rule = found
        field = "id_number" if rule == "id_number" else "deceased_name"
        raise Conflict(field, f"duplicate_{rule}", f"possible duplicate of case {existing_id}",
                       existing_case_id=str(existing_id))
