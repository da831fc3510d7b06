"""Liveness, readiness and metrics endpoints (outside /api/v1, for probes and Prometheus)."""
from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from registry import db, errors
from registry.approvals import attachments
from registry.deps import ContextDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is unreachable or not at the migration head"}})
def readyz(ctx: ContextDep) -> JSONResponse:
    """The database is reachable and its schema is at the migration head."""
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = db.current_revisions(ctx.engine)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"}, 503)
    heads = ctx.migration_heads
    if current != heads:
        return JSONResponse({"status": "unavailable", "reason": "schema not at migration head",
                             "current": sorted(current), "head": sorted(heads)}, 503)
    # the attachments' virus scanner is reported, not required: a tenant may run without one, knowingly
    return JSONResponse({"status": "ready", "revision": sorted(current),
                         "virus_scan": attachments.scanner_status(ctx.settings)})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: ContextDep) -> Response:
    """Prometheus exposition of this tenant's app."""
    return Response(ctx.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/.well-known/jwks.json", responses={
    404: {"model": errors.ErrorBody, "description": "Tokens of this tenant come from its Keycloak realm"}})
def jwks(ctx: ContextDep) -> dict:
    """Public keys of the development issuer, so other services can check this tenant's tokens."""
    if ctx.issuer is None:  # a Keycloak tenant: its realm publishes the keys, this service holds none
        raise HTTPException(status_code=404, detail="this tenant's tokens come from its Keycloak realm; "
                                                    "its keys are at the realm's certs endpoint")
    return ctx.issuer.jwks


@router.get("/.well-known/fsp-certificate-key")
def certificate_key(ctx: ContextDep) -> dict:
    """The public SM2 key that signs this tenant's certificate QR codes: anyone checks them with it, offline too."""
    key = ctx.keys.certificate_key
    return {"algorithm": "SM2-with-SM3", "public_key": key.public_hex, "key_id": key.key_id,
            "tenant_code": ctx.settings.tenant_code, "tenant_slug": ctx.settings.tenant_slug}
