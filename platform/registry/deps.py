"""Request dependencies as Annotated aliases; handlers never reach for globals."""
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from registry import messages
from registry.context import TenantContext
from registry.errors import Forbidden, Unauthorized
from registry.group_commit import GroupCommit
from registry.security.auth import Principal, check_separation
from registry.security.permissions import Permission

# every domain router declares its full path, so the route template is the whole URL path
API_PREFIX = "/api/v1"

_bearer = HTTPBearer(auto_error=False, description="A token from the tenant's issuer")


async def get_language(request: Request) -> str:
    """The reader's language for messages built in a 200 answer (refusals are worded by the error handlers)."""
    return messages.language_of(request.headers.get("accept-language"))


# cheap, non-blocking dependencies are async: a sync one costs a threadpool hop on every request
async def get_context(request: Request) -> TenantContext:
    return request.app.state.ctx


async def get_session(request: Request) -> AsyncIterator[Session]:
    # async, so a request does not hop to a worker thread and back just to open and close its session:
    # opening connects lazily, and closing after a commit is a return to the pool
    session = Session(request.app.state.ctx.engine, expire_on_commit=False)
    # the error handlers roll it back before auditing a refusal, so no lock outlives the request
    request.state.db_session = session
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close)  # a rollback is a database round trip: off the loop
        else:
            session.close()


async def get_principal(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None:
        raise Unauthorized("a bearer token is required")
    verifier = request.app.state.ctx.verifier
    token = credentials.credentials
    principal = verifier.remembered(token)
    if principal is None:
        if verifier.needs_fetch(token):
            # fetching the realm's keys is network I/O: off the event loop; once cached, verifying is CPU only
            principal = await anyio.to_thread.run_sync(verifier.verify, token)
        else:
            principal = verifier.verify(token)
    request.state.principal = principal
    check_separation(principal)
    return principal


# list cursors: 2**63 overflows a database BIGINT; this bound is the largest integer every JSON client reads exactly
MAX_CURSOR = 2 ** 53 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_CURSOR, description="rows to skip")]
After = Annotated[int, Query(ge=0, le=MAX_CURSOR, description="the last seq already read")]

ContextDep = Annotated[TenantContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]


async def get_declarations(request: Request) -> GroupCommit:
    """The app's group commit of case declarations (registry.group_commit)."""
    return request.app.state.case_declarations


DeclarationsDep = Annotated[GroupCommit, Depends(get_declarations)]
LanguageDep = Annotated[str, Depends(get_language)]
CurrentUser = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission):
    """A dependency that lets the request through only with the permission."""

    async def check(principal: CurrentUser) -> Principal:
        if not principal.can(permission):
            raise Forbidden("authorization", "permission", f"role lacks permission {permission.value}")
        return principal

    return Annotated[Principal, Depends(check)]


async def _figures_reader(principal: CurrentUser, ctx: ContextDep) -> Principal:
    """The national statistics, indicators and KPIs: at the ministry every province's, for national:read; in a
    province its own copy of them (registry.national.own_figures), for statistics:read."""
    needed = Permission.statistics_read if ctx.settings.own_province else Permission.national_read
    if not principal.can(needed):
        raise Forbidden("authorization", "permission", f"role lacks permission {needed.value}")
    return principal


FiguresReader = Annotated[Principal, Depends(_figures_reader)]
InstitutionsWriter = require(Permission.institutions_write)
PublicationsWriter = require(Permission.publications_write)
CasesReader = require(Permission.cases_read)
CasesWriter = require(Permission.cases_write)
CasesReviewer = require(Permission.cases_review)
CasesImporter = require(Permission.cases_import)
CremationsWriter = require(Permission.cremations_write)
RemainsWriter = require(Permission.remains_write)
AuditReader = require(Permission.audit_read)
OutboxReader = require(Permission.outbox_read)
Citizen = require(Permission.services_apply)
ComplaintsReader = require(Permission.complaints_read)
ComplaintsAnswerer = require(Permission.complaints_answer)
ComplaintsHandler = require(Permission.complaints_handle)
ComplaintsCounter = require(Permission.complaints_counts)
MemorialsModerator = require(Permission.memorials_moderate)
RatingsReader = require(Permission.ratings_read)
CreditManager = require(Permission.credit_manage)
CreditOwnReader = require(Permission.credit_read_own)
