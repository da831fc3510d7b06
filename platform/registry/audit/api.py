"""Audit trail, for auditors only (三员分立: administrators cannot read it)."""
from typing import Annotated

from fastapi import APIRouter, Query

from registry.audit import service
from registry.audit.models import AuditEntriesPublic, AuditEntryPublic, AuditFilters, ChainVerdict
from registry.deps import API_PREFIX, AuditReader, ContextDep, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/audit", tags=["audit"])


@router.get("", response_model=AuditEntriesPublic)
def list_audit(session: SessionDep, _: AuditReader,
               filters: Annotated[AuditFilters, Query()]) -> AuditEntriesPublic:
    """Entries in chain order after `after`, or newest first (before `before`), narrowed by actor, action,
    object, result and China-time day range; `count` is the number of entries in this answer."""
    entries = service.list_entries(session, filters)
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries],
                              count=len(entries))


@router.get("/verify", response_model=ChainVerdict)
def verify_chain(session: SessionDep, ctx: ContextDep, _: AuditReader) -> ChainVerdict:
    """Walk the hash chain; names the first entry that was altered or removed."""
    ctx.metrics.unauthenticated.flush()  # refusals counted so far are in the chain it verifies
    verdict = service.verify(session, anchor=ctx.journal.anchor)
    ctx.metrics.audit_chain.record(verdict)  # Prometheus alerts on the latest verdict
    return verdict
