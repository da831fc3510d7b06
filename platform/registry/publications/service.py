"""Policies, guides and notices: provincial admins write drafts, publish, edit and withdraw them, each write
audited; what the public sees changing (published, updated while published, withdrawn) goes to the outbox, so the
ministry receives it. Drafts stay in the province: nothing of them is public."""
import uuid

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.context import TenantContext
from registry.db_types import utcnow
from registry.errors import Conflict, NotFound
from registry.journal import Write
from registry.publications.models import (
    Publication,
    PublicationCategory,
    PublicationCreate,
    PublicationPublic,
    PublicationStatus,
    PublicationUpdate,
    PublicationWithdraw,
)
from registry.security.auth import Principal

Status = PublicationStatus


def list_publications(session: Session, *, status: PublicationStatus | None, category: PublicationCategory | None = None,
                      q: str | None = None, offset: int = 0, limit: int = 20) -> tuple[list[Publication], int]:
    """Publications of `status` (any when None), newest first (by publication, then by writing), with the number
    matching over all pages. `q` is searched in the titles."""
    query = select(Publication)
    if status is not None:
        query = query.where(Publication.status == status)
    if category is not None:
        query = query.where(Publication.category == category)
    if q:
        query = query.where(col(Publication.title).contains(q))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    newest_first = (col(Publication.published_at).desc().nulls_last(), col(Publication.created_at).desc(),
                    col(Publication.id))
    return list(session.exec(query.order_by(*newest_first).offset(offset).limit(limit))), total


def get_published(session: Session, *, publication_id: uuid.UUID) -> Publication:
    """A publication the public may read; a draft or a withdrawn one is NotFound like one that never was."""
    publication = session.get(Publication, publication_id)
    if publication is None or publication.status != Status.published:
        raise NotFound("publication_id", f"publication {publication_id} not found")
    return publication


def get_publication(session: Session, *, publication_id: uuid.UUID) -> Publication:
    """Any publication, whatever its status (for the admins who write them)."""
    publication = session.get(Publication, publication_id)
    if publication is None:
        raise NotFound("publication_id", f"publication {publication_id} not found")
    return publication


def create_publication(session: Session, *, ctx: TenantContext, principal: Principal,
                       data: PublicationCreate) -> Publication:
    """A new draft: audited, not sent anywhere until it is published."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        publication = Publication.model_validate(data)
        session.add(publication)
        _record(unit, publication, action="publication.create", event_type=None)
    return publication


def update_publication(session: Session, *, ctx: TenantContext, principal: Principal, publication_id: uuid.UUID,
                       data: PublicationUpdate) -> Publication:
    """Change a draft or a published document (it stays published: the ministry gets the new text); a withdrawn
    one is kept as it was taken down."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        publication = _in_status(session, publication_id, (Status.draft, Status.published), "edit")
        changes = data.model_dump(exclude_unset=True)
        changed = sorted(name for name, value in changes.items() if getattr(publication, name) != value)
        for name, value in changes.items():
            setattr(publication, name, value)
        publication.updated_at = utcnow()
        session.add(publication)
        published = publication.status == Status.published
        _record(unit, publication, action="publication.update",
                event_type="publication.updated" if published else None, detail={"fields": changed})
    return publication


def publish_publication(session: Session, *, ctx: TenantContext, principal: Principal,
                        publication_id: uuid.UUID) -> Publication:
    """Make a draft public from now on."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        publication = _in_status(session, publication_id, (Status.draft,), "publish")
        publication.status = Status.published
        publication.published_at = publication.updated_at = utcnow()
        session.add(publication)
        _record(unit, publication, action="publication.publish", event_type="publication.published")
    return publication


def withdraw_publication(session: Session, *, ctx: TenantContext, principal: Principal, publication_id: uuid.UUID,
                         data: PublicationWithdraw) -> Publication:
    """Take a published document down: the row and its reason stay, the public no longer sees it."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        publication = _in_status(session, publication_id, (Status.published,), "withdraw")
        publication.status = Status.withdrawn
        publication.withdrawal_reason = data.reason
        publication.withdrawn_at = publication.updated_at = utcnow()
        session.add(publication)
        _record(unit, publication, action="publication.withdraw", event_type="publication.withdrawn")
    return publication


def _in_status(session: Session, publication_id: uuid.UUID, allowed: tuple[PublicationStatus, ...],
               verb: str) -> Publication:
    publication = get_publication(session, publication_id=publication_id)
    if publication.status not in allowed:
        raise Conflict("status", "publication_status",
                       f"cannot {verb} a {publication.status.value} publication; only "
                       + " or ".join(status.value for status in allowed))
    return publication


def _record(unit: Write, publication: Publication, *, action: str, event_type: str | None,
            detail: dict | None = None) -> None:
    payload = PublicationPublic.model_validate(publication).model_dump(mode="json") if event_type else None
    unit.record(action=action, object_type="publication", object_id=publication.id, event_type=event_type,
                payload=payload, detail=detail)
