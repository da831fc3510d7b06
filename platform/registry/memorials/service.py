"""Memorial pages: the family creates (with consent recorded) and removes them and removes messages on them;
visitors read public pages (an invitation-only one with its code) and leave messages and offerings, published at
once unless the word filter holds them for the staff's review. Every write is one audited unit of write; events
carry ids, statuses and offerings, never a name or a message's words."""
import secrets
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry import query_codes
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.errors import Conflict, Gone, Invalid, NotFound
from registry.journal import Write
from registry.memorials import words
from registry.memorials.models import (
    SHOWN_MESSAGES,
    Decision,
    Memorial,
    MemorialCreate,
    MemorialCreated,
    MemorialMessage,
    MemorialMessageStatus,
    MemorialOffering,
    MemorialOwned,
    MemorialOwnedPage,
    MemorialPage,
    MemorialPublic,
    MemorialStatus,
    MemorialVisibility,
    MessageCreate,
    MessageForReview,
    MessagePublic,
)
from registry.security.auth import Principal

# who leaves a message without signing in, in the audit trail
VISITOR = "public:memorial-visitor"


def _record(unit: Write, verb: str, object_type: str, object_id: uuid.UUID, payload: dict) -> None:
    unit.record(action=f"{object_type}.{verb}", object_type=object_type, object_id=object_id,
                event_type=f"{object_type}.{verb}", payload=payload)


def _not_found(memorial_id: uuid.UUID) -> NotFound:
    return NotFound("memorial_id", f"memorial {memorial_id} not found")


def create(session: Session, *, ctx: TenantContext, principal: Principal, data: MemorialCreate,
           now: datetime | None = None) -> MemorialCreated:
    """The family's new page; an invitation-only one gets its code, shown this once."""
    if not data.consent:
        raise Invalid("consent", "consent_required", "a memorial is created with the family's consent")
    now = now or utcnow()
    code = query_codes.new_code() if data.visibility == MemorialVisibility.invitation else None
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = Memorial(owner_subject=principal.subject, deceased_name=data.deceased_name, birth_date=data.birth_date,
                       death_date=data.death_date, biography=data.biography, visibility=data.visibility,
                       invitation_code_digest=query_codes.digest(code) if code else None,
                       consented_by_encrypted=ctx.encrypt("memorial.consented_by", data.consented_by),
                       relation=data.relation, consented_at=now, created_at=now, updated_at=now)
        session.add(row)
        _record(unit, "created", "memorial", row.id, {"memorial_id": str(row.id), "visibility": row.visibility.value,
                                                       "relation": row.relation.value})
    return MemorialCreated(**MemorialOwned.model_validate(row).model_dump(), invitation_code=code)


def list_own(session: Session, *, principal: Principal) -> list[Memorial]:
    return list(session.exec(select(Memorial).where(Memorial.owner_subject == principal.subject)
                             .order_by(col(Memorial.created_at).desc())))


def _own(session: Session, principal: Principal, memorial_id: uuid.UUID) -> Memorial:
    row = session.get(Memorial, memorial_id)
    if row is None or row.owner_subject != principal.subject:
        raise _not_found(memorial_id)  # another family's page is not found, like one that does not exist
    return row


def own_page(session: Session, *, principal: Principal, memorial_id: uuid.UUID) -> MemorialOwnedPage:
    """The family's own page with the messages it may remove (an invitation-only page needs no code for them)."""
    memorial = _own(session, principal, memorial_id)
    shown = col(MemorialMessage.status).in_((MemorialMessageStatus.published, MemorialMessageStatus.pending))
    rows = session.exec(select(MemorialMessage).where(MemorialMessage.memorial_id == memorial.id, shown)
                        .order_by(col(MemorialMessage.created_at).desc(), col(MemorialMessage.id)).limit(SHOWN_MESSAGES))
    return MemorialOwnedPage(memorial=MemorialOwned.model_validate(memorial),
                             messages=[MessagePublic.model_validate(m) for m in rows])


def remove(session: Session, *, ctx: TenantContext, principal: Principal, memorial_id: uuid.UUID,
           now: datetime | None = None) -> MemorialOwned:
    """The family takes the page down: it answers 410 from now on; its data stays for the retention period."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = _own(session, principal, memorial_id)
        if row.status == MemorialStatus.removed:
            raise Gone("memorial_id", "memorial_removed", f"memorial {memorial_id} was removed")
        row.status, row.removed_at, row.updated_at = MemorialStatus.removed, now, now
        session.add(row)
        _record(unit, "removed", "memorial", row.id, {"memorial_id": str(row.id)})
    return MemorialOwned.model_validate(row)


def remove_message(session: Session, *, ctx: TenantContext, principal: Principal, memorial_id: uuid.UUID,
                   message_id: uuid.UUID, now: datetime | None = None) -> MessagePublic:
    """The family removes a message from its page, whatever its state."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        memorial = _own(session, principal, memorial_id)
        message = session.get(MemorialMessage, message_id)
        if message is None or message.memorial_id != memorial.id:
            raise NotFound("message_id", f"message {message_id} not found")
        message.status = MemorialMessageStatus.removed
        memorial.updated_at = now
        session.add_all([message, memorial])
        _record(unit, "removed", "memorial_message", message.id,
                {"memorial_id": str(memorial.id), "message_id": str(message.id)})
    return MessagePublic.model_validate(message)


def list_public(session: Session, *, q: str | None = None, offset: int = 0, limit: int = 20) -> tuple[list[Memorial], int]:
    """Public pages still up, newest first; `q` is searched in the deceased's name."""
    query = select(Memorial).where(Memorial.visibility == MemorialVisibility.public, Memorial.status == MemorialStatus.active)
    if q:
        query = query.where(col(Memorial.deceased_name).contains(q))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Memorial.created_at).desc(), col(Memorial.id)).offset(offset).limit(limit))
    return list(rows), total


def visible(session: Session, *, ctx: TenantContext, memorial_id: uuid.UUID, code: str | None, client: str) -> Memorial:
    """The page a visitor may see: an invitation-only one needs its code (a wrong code answers like a missing page
    and costs the client an attempt of ctx.query_attempts); a removed one is Gone."""
    row = session.get(Memorial, memorial_id)
    if row is None:
        raise _not_found(memorial_id)
    if row.visibility == MemorialVisibility.invitation:
        if ctx.query_attempts.blocked(client):
            raise _not_found(memorial_id)
        if not code or not query_codes.well_formed(code) or not secrets.compare_digest(
                query_codes.digest(code), row.invitation_code_digest or ""):
            ctx.query_attempts.failed(client)
            raise _not_found(memorial_id)
    if row.status == MemorialStatus.removed:
        raise Gone("memorial_id", "memorial_removed", f"memorial {memorial_id} was removed by the family")
    return row


def page_of(session: Session, memorial: Memorial) -> MemorialPage:
    """The page as shown: the newest published messages and the offerings counted."""
    published = (MemorialMessage.memorial_id == memorial.id, MemorialMessage.status == MemorialMessageStatus.published)
    messages = session.exec(select(MemorialMessage).where(*published)
                            .order_by(col(MemorialMessage.created_at).desc(), col(MemorialMessage.id))
                            .limit(SHOWN_MESSAGES))
    offered = session.exec(select(MemorialMessage.offering, func.count()).where(
        *published, col(MemorialMessage.offering).is_not(None)).group_by(MemorialMessage.offering)).all()
    counts = dict.fromkeys(MemorialOffering, 0) | {MemorialOffering(offering): n for offering, n in offered}
    return MemorialPage(memorial=MemorialPublic.model_validate(memorial),
                        messages=[MessagePublic.model_validate(m) for m in messages], offerings=counts)


class TooManyMessages(Exception):
    """A client past its limit of messages: answered 429 without an audit entry each time."""


def post_message(session: Session, *, ctx: TenantContext, memorial_id: uuid.UUID, code: str | None, client: str,
                 data: MessageCreate, principal: Principal | None = None, now: datetime | None = None) -> MessagePublic:
    """A visitor's message or offering: published, or pending review when the word filter finds a listed word."""
    if ctx.memorial_messages.blocked(client):
        raise TooManyMessages(client)
    now = now or utcnow()
    hits = words.found_in(data.author_name, data.text)
    with ctx.journal.write(session, actor=principal.subject if principal else VISITOR) as unit:
        memorial = visible(session, ctx=ctx, memorial_id=memorial_id, code=code, client=client)
        status = MemorialMessageStatus.pending if hits else MemorialMessageStatus.published
        message = MemorialMessage(memorial_id=memorial.id, author_name=data.author_name, text=data.text,
                                  offering=data.offering, status=status, flagged=",".join(hits)[:200] or None,
                                  author_subject=principal.subject if principal else None, created_at=now)
        session.add(message)
        if status == MemorialMessageStatus.published:
            memorial.updated_at = now
            session.add(memorial)
        _record(unit, "posted", "memorial_message", message.id,
                {"memorial_id": str(memorial.id), "message_id": str(message.id), "status": status.value,
                 "offering": data.offering.value if data.offering else None})
    ctx.memorial_messages.failed(client)  # counts the message: limits are of messages, not of failures
    ctx.metrics.memorial_messages.labels(status=status.value).inc()
    return MessagePublic.model_validate(message)


def review_queue(session: Session, *, offset: int = 0, limit: int = 20) -> tuple[list[MessageForReview], int]:
    """Messages held by the filter, the oldest first, with the page they were left on."""
    query = (select(MemorialMessage, Memorial.deceased_name).join(Memorial)
             .where(MemorialMessage.status == MemorialMessageStatus.pending))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(MemorialMessage.created_at), col(MemorialMessage.id)).offset(offset)
                        .limit(limit)).all()
    return [MessageForReview(**MessagePublic.model_validate(message).model_dump(), memorial_id=message.memorial_id,
                             deceased_name=name, flagged=message.flagged) for message, name in rows], total


def review(session: Session, *, ctx: TenantContext, principal: Principal, message_id: uuid.UUID, decision: Decision,
           now: datetime | None = None) -> MessagePublic:
    """Staff approve (publish) or reject a held message; each decision audited."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        message = session.get(MemorialMessage, message_id)
        if message is None:
            raise NotFound("message_id", f"message {message_id} not found")
        if message.status != MemorialMessageStatus.pending:
            raise Conflict("decision", "message_status", f"message {message_id} is {message.status.value}, not pending")
        message.status = MemorialMessageStatus.published if decision == Decision.approve else MemorialMessageStatus.rejected
        message.reviewed_at = now
        session.add(message)
        if message.status == MemorialMessageStatus.published:
            memorial = session.get(Memorial, message.memorial_id)
            memorial.updated_at = now
            session.add(memorial)
        _record(unit, "reviewed", "memorial_message", message.id,
                {"memorial_id": str(message.memorial_id), "message_id": str(message.id),
                 "status": message.status.value})
    ctx.metrics.memorial_messages.labels(status=message.status.value).inc()
    return MessagePublic.model_validate(message)
