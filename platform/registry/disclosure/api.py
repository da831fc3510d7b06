"""An institution's public disclosure: opening hours, service commitments, supervision and complaints."""
import uuid

from fastapi import APIRouter

from registry.deps import API_PREFIX, ContextDep, InstitutionsWriter, SessionDep
from registry.disclosure import service
from registry.disclosure.models import DisclosurePublic, DisclosureSet

router = APIRouter(prefix=f"{API_PREFIX}/institutions/{{institution_id}}/disclosure", tags=["institutions"])


@router.get("", response_model=DisclosurePublic)
def get_disclosure(institution_id: uuid.UUID, session: SessionDep) -> DisclosurePublic:
    return service.get_disclosure(session, institution_id=institution_id)


@router.put("", response_model=DisclosurePublic)
def set_disclosure(institution_id: uuid.UUID, body: DisclosureSet, session: SessionDep, ctx: ContextDep,
                   principal: InstitutionsWriter) -> DisclosurePublic:
    return service.set_disclosure(session, ctx=ctx, principal=principal, institution_id=institution_id, data=body)
