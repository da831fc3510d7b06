"""Build one tenant's registry app: create_app(settings) can be called many times in one process."""
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry import __version__, access_log, db, errors, messages
from registry.api_contract import allowed_methods, document_refusals
from registry.approvals import attachments
from registry.approvals.api import router as approvals_router
from registry.audit.api import router as audit_router
from registry.cases import declarations
from registry.cases.api import router as cases_router
from registry.complaints.api import router as complaints_router
from registry.config import Role, Settings
from registry.context import TenantContext
from registry.credit.api import router as credit_router
from registry.cremations import service as certificates
from registry.cremations.api import router as cremations_router
from registry.cremations.certificates_api import router as certificates_router
from registry.cross_province.api import router as cross_province_router
from registry.deps import API_PREFIX
from registry.disclosure.api import router as disclosure_router
from registry.equipment.api import router as equipment_router
from registry.exchange import api as exchange_api
from registry.group_commit import GroupCommit
from registry.health import router as health_router
from registry.institutions.api import router as institutions_router
from registry.journal import Journal
from registry.limits import BodySizeLimit, refused_action, refused_actor
from registry.memorials.api import router as memorials_router
from registry.metrics import AppMetrics, MetricsMiddleware
from registry.national import api as national_api
from registry.national import credit_lists, kpis_api, online_api, own_figures, statistics_api
from registry.online_status_api import router as status_lookups_router
from registry.outbox.api import router as outbox_router
from registry.payments import api as payments_api
from registry.publications.api import router as publications_router
from registry.ratings.api import router as ratings_router
from registry.remains.api import router as remains_router
from registry.reservations import api as reservations_api
from registry.security.auth import DevelopmentIssuer, RemoteJWKS, TokenVerifier
from registry.security.key_ledger import protect_keys, record_keys
from registry.security.keys import TenantKeys, ensure_keys, load_keys
from registry.security_headers import SecurityHeaders
from registry.sweeps import Sweeper
from registry.tenant_status import RefuseWhileSuspended, StatusCache

log = logging.getLogger(__name__)
_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# a bulk import's batch of archived cases, wherever the app is mounted: larger than other bodies
BULK_IMPORT_PATH = re.compile(r"(?:/[^/]+)*" + re.escape(f"{API_PREFIX}/cases/imports/bulk"))
# a device's batch of up to 500 readings (about 110 bytes each)
READINGS_MAX_BYTES = 128 * 1024
READINGS_PATH = re.compile(r"(?:/[^/]+)*" + re.escape(f"{API_PREFIX}/devices/") + r"[^/]+/readings")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The registry of one tenant, with its own engine, keys, issuer and metrics."""
    settings = settings or Settings()
    access_log.redact_access_log_queries()
    engine = db.make_engine(settings)
    protect_keys(engine, settings.keys_dir)  # a lost or swapped key the data depends on is never made anew
    if settings.environment == "development":  # production keys come from provisioning, never made on the fly
        ensure_keys(settings.keys_dir, certificates_issued=lambda: certificates.any_issued(engine))
    keys = load_keys(settings.keys_dir)
    record_keys(engine, settings.keys_dir)
    journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
    issuer, verifier = _token_checks(settings, keys)
    ctx = TenantContext(
        settings=settings, engine=engine, keys=keys, issuer=issuer, verifier=verifier, journal=journal,
        metrics=AppMetrics(settings, version=__version__, journal=journal),
        migration_heads=db.migration_heads(), status=StatusCache(engine),
    )
    # the docs page loads Swagger UI from the installed package: a provincial intranet reaches no CDN
    app = FastAPIOffline(title=f"Funeral registry — {settings.tenant_slug}", version=__version__,
                         openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs", redoc_url=None,
                         static_url=f"{API_PREFIX}/docs/static", lifespan=_audit_flushed_at_shutdown(ctx))
    app.state.ctx = ctx
    app.state.case_declarations = GroupCommit(functools.partial(declarations.declare_batch, ctx),
                                              max_batch=settings.group_commit_max,
                                              linger=settings.group_commit_linger_seconds)
    app.include_router(health_router)
    app.include_router(equipment_router)  # first: devices push often, so their route is matched first
    for router in (institutions_router, cases_router, cremations_router, certificates_router, remains_router, audit_router,
                   outbox_router):
        app.include_router(router)
    app.include_router(disclosure_router)
    app.include_router(publications_router)
    app.include_router(status_lookups_router)  # 办件查询 by query code (online services)
    app.include_router(approvals_router)
    reservations_api.mount(app)
    payments_api.mount(app)  # 网上缴费 of booked services
    app.include_router(complaints_router)
    app.include_router(memorials_router)
    app.include_router(ratings_router)  # 满意度评价 of completed services
    app.include_router(credit_router)  # 信用评价 of institutions, and the public red and black lists
    if settings.role == Role.province:  # the pairs the ministry found of one person here and elsewhere
        app.include_router(cross_province_router)
        own_figures.mount(app)  # and its own figures, counted as the ministry counts them
    if settings.role == Role.ministry:  # only the national platform receives the provinces' batches
        exchange_api.mount(app, journal=journal, peers_dir=settings.exchange_peers_dir, registry=ctx.metrics.registry,
                           max_events=settings.exchange_max_batch_events)
        national_api.mount(app)
        credit_lists.mount(app)  # the provinces' red and black lists
    statistics_api.mount(app)  # the ministry's over every province; a province's over its own copy
    kpis_api.mount(app)
    online_api.mount(app)
    _install_error_handlers(app)
    document_refusals(app)
    # a suspended tenant (`fsp suspend`) refuses every write; counted by the metrics like any refusal
    app.add_middleware(RefuseWhileSuspended, cache=ctx.status, journal=journal, audit_action=refused_action,
                       audit_actor=functools.partial(refused_actor, ctx.verifier))
    app.add_middleware(MetricsMiddleware, metrics=ctx.metrics)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       on_refuse=lambda scope: _audit_oversized(ctx, scope),
                       larger=(("POST", attachments.UPLOAD_PATH, settings.attachment_max_bytes),
                               ("POST", BULK_IMPORT_PATH, settings.max_import_body_bytes),
                               ("POST", READINGS_PATH, READINGS_MAX_BYTES),
                               ("POST", exchange_api.BATCHES_PATH, settings.exchange_max_batch_bytes)))
    return app


def _audit_flushed_at_shutdown(ctx: TenantContext):
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings = ctx.settings
        # the province's sweeps, when the app runs them itself (on Kubernetes: each replica; the journal's write
        # head makes two rounds at once take turns, and a round finds nothing left by the other)
        sweeper = Sweeper(ctx, interval=settings.sweep_interval_seconds) \
            if settings.role == Role.province and settings.sweep_interval_seconds else None
        if sweeper is not None:
            sweeper.start()
        yield
        if sweeper is not None:
            await anyio.to_thread.run_sync(sweeper.close)
        # counted 401s and the newest checkpoint of the audit chain must not leave with the process
        await anyio.to_thread.run_sync(ctx.metrics.unauthenticated.flush)
        await anyio.to_thread.run_sync(ctx.journal.anchor.flush)

    return lifespan


def _token_checks(settings: Settings, keys: TenantKeys) -> tuple[DevelopmentIssuer | None, TokenVerifier]:
    """The development issuer and its verifier, or a verifier of the tenant's Keycloak realm over its JWKS."""
    if settings.uses_development_issuer:
        issuer = DevelopmentIssuer(keys.token_private_pem, issuer=settings.issuer, audience=settings.token_audience,
                                   previous_pems=keys.previous_token_pems)
        return issuer, issuer.verifier
    keys = RemoteJWKS(settings.jwks_url, min_refetch_seconds=settings.token_jwks_refetch_seconds)
    return None, TokenVerifier(keys, issuer=settings.issuer, audience=settings.token_audience)


def _actor(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    return principal.subject if principal else "anonymous"


def _action(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def _refuse(request: Request, status: int, title: str, problems: list[dict]) -> JSONResponse:
    """Answer with the one error shape, in the reader's language; audit refused writes and every denied access."""
    language = messages.language_of(request.headers.get("accept-language"))
    title = messages.title(status, language, title)
    problems = [errors.localize(problem, language) for problem in problems]
    session = getattr(request.state, "db_session", None)
    if session is not None:
        session.rollback()  # nothing of the refused request may be written, and its locks must go
    if status == 401:  # anyone can send these: audited by count per client and window (audit/refusals.py)
        client = request.client.host if request.client else "unknown"
        request.app.state.ctx.metrics.unauthenticated.refused(client=client, action=_action(request), problems=problems)
    elif request.method in _MUTATING or status == 403:
        request.app.state.ctx.journal.refused(actor=_actor(request), action=_action(request), status=status,
                                              problems=problems)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(errors.body(status, title, problems), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    def domain_error(request: Request, exc: errors.DomainError) -> JSONResponse:
        return _refuse(request, exc.status, exc.title, [p.as_dict() for p in exc.problems])

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [errors.problem_from_pydantic(e) for e in exc.errors()]
        return _refuse(request, 422, "invalid input", problems)

    @app.exception_handler(DataError)
    def unstorable_value(request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character PostgreSQL cannot store: the input's fault, never a 500
        return _refuse(request, 422, "invalid input", [
            {"field": "body", "rule": "storable", "message": "a value cannot be stored (control characters?)"}])

    @app.exception_handler(IntegrityError)
    def constraint_violated(request: Request, exc: IntegrityError) -> JSONResponse:
        # the services check first; this answers a race the database constraint caught
        return _refuse(request, 409, "conflict", [
            {"field": "body", "rule": "constraint", "message": "conflicts with a record written concurrently"}])

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body at all (e.g. bytes that are not UTF-8)
            return _refuse(request, 422, "invalid input", [
                {"field": "body", "rule": "body_decoding", "message": "the body is not readable JSON (UTF-8)"}])
        rule = {404: "route", 405: "method"}.get(exc.status_code, "http")
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request, (headers or {}).get("Allow", ""))}
        language = messages.language_of(request.headers.get("accept-language"))
        problem = {"field": "path", "rule": rule, "message": str(exc.detail)}
        if exc.detail == HTTPStatus(exc.status_code).phrase:  # a route's own explanation stays as it was written
            problem = errors.localize(problem, language)
        return JSONResponse(errors.body(exc.status_code, messages.title(exc.status_code, language,
                                                                        str(exc.detail).lower()), [problem]),
                            status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", _action(request))
        session = getattr(request.state, "db_session", None)
        if session is not None:
            session.rollback()
        return JSONResponse(errors.body(500, "internal error", [
            {"field": "server", "rule": "internal", "message": "internal error; it has been logged"}]), 500)


async def _audit_oversized(ctx: TenantContext, scope) -> None:
    problems = [{"field": "body", "rule": "max_size", "message": "request body too large"}]
    await anyio.to_thread.run_sync(lambda: ctx.journal.refused(
        actor=refused_actor(ctx.verifier, scope), action=refused_action(scope), status=413, problems=problems))
