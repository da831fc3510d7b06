"""Institutions' public disclosures: read by anyone, replaced by provincial admins, audited and published."""
import uuid

from sqlmodel import Session

from registry.context import TenantContext
from registry.db_types import utcnow
from registry.disclosure.models import DisclosurePublic, DisclosureSet, InstitutionDisclosure
from registry.institutions.service import get_institution
from registry.security.auth import Principal


def get_disclosure(session: Session, *, institution_id: uuid.UUID) -> DisclosurePublic:
    """The institution's disclosure (empty when none was set); NotFound when the institution is unknown."""
    get_institution(session, institution_id=institution_id)
    return DisclosurePublic.of(institution_id, session.get(InstitutionDisclosure, institution_id))


def set_disclosure(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                   data: DisclosureSet) -> DisclosurePublic:
    """Replace the institution's disclosure; the audit entry names the fields that changed."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=institution_id)
        existing = session.get(InstitutionDisclosure, institution_id)
        before = DisclosurePublic.of(institution_id, existing)
        stored = existing or InstitutionDisclosure(institution_id=institution_id)
        stored.opening_hours = data.opening_hours
        stored.commitments = "\n".join(data.commitments) or None
        stored.supervising_authority = data.supervising_authority
        stored.complaint_phone = data.complaint_phone
        stored.updated_at = utcnow()
        session.add(stored)
        public = DisclosurePublic.of(institution_id, stored)
        changed = sorted(name for name in ("opening_hours", "commitments", "supervising_authority", "complaint_phone")
                         if getattr(before, name) != getattr(public, name))
        unit.record(action="institution_disclosure.set",
                        object_type="institution", object_id=institution_id,
                        event_type="institution_disclosure.published", payload=public.model_dump(mode="json"),
                        detail={"fields": changed})
    return public
