"""Payments: a citizen pays a booking, the provider notifies (anonymous, verified), the province's admins list
orders and reconcile a day with the provider's statement."""
import uuid
from typing import Annotated
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from registry import errors, messages
from registry.deps import API_PREFIX, ContextDep, Offset, SessionDep, require
from registry.payments import reconcile, runtime, service
from registry.payments.metrics import PaymentsCollector
from registry.payments.models import (
    OrdersPublic,
    OrderStatus,
    PaymentPublic,
    PaymentStart,
    ReconciliationPublic,
    ReconciliationRequest,
    ReconciliationsPublic,
)
from registry.reservations.service import own_booking
from registry.security.permissions import Permission

router = APIRouter(prefix=API_PREFIX, tags=["payments"])
Citizen = require(Permission.services_apply)
PaymentsManager = require(Permission.payments_manage)
PAYMENT = "/my/bookings/{booking_id}/payment"
Limit = Annotated[int, Query(ge=1, le=200, description="rows a page")]


@router.get(PAYMENT, response_model=PaymentPublic)
def booking_payment(booking_id: uuid.UUID, session: SessionDep, principal: Citizen) -> PaymentPublic:
    """The fee of the citizen's booking and how its payment stands (免费 when free by policy)."""
    return service.view(session, own_booking(session, principal, booking_id))


@router.post(PAYMENT, response_model=PaymentPublic,
             responses={409: {"model": errors.ErrorBody}, 503: {"model": errors.ErrorBody}})
def start_payment(booking_id: uuid.UUID, body: PaymentStart, request: Request, session: SessionDep, ctx: ContextDep,
                  principal: Citizen) -> PaymentPublic:
    """Send the booking's fee to the provider: the answer's pay_url is its pay page, which sends the payer back
    to `return_path` of this site. A service free by policy is refused (409) and never sent."""
    settings = ctx.settings
    site = urlsplit(settings.public_url) if settings.public_url else request.url
    notify_url = settings.payment_notify_url or str(request.url_for("payment_notification"))
    return service.start(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body,
                         origin=f"{site.scheme}://{site.netloc}", notify_url=notify_url)


@router.post("/payments/notifications", name="payment_notification", response_model=dict[str, str],
             responses={404: {"model": errors.ErrorBody}, 409: {"model": errors.ErrorBody},
                        422: {"model": errors.ErrorBody}, 429: {"model": errors.ErrorBody}})
async def payment_notification(request: Request, session: SessionDep, ctx: ContextDep) -> dict | JSONResponse:
    """The provider's signed notice (no sign-in: the signature is the proof). Refused notices are audited and,
    past a limit per client, answered 429 without further work."""
    client = request.client.host if request.client else "unknown"
    attempts = ctx.payments.refused_notices
    if not attempts.blocked(client):
        body = await request.body()
        try:
            await anyio.to_thread.run_sync(lambda: service.receive_notice(session, ctx=ctx, headers=request.headers,
                                                                          body=body))
            return {"code": "SUCCESS"}
        except service.NoticeRefused:
            if not attempts.failed(client):
                raise
            ctx.journal.refused(actor="anonymous", action="payment.notice", status=429, problems=[
                {"field": "notice", "rule": "too_many_attempts", "message": f"{attempts.max_failures} refused notices"}])
    language = messages.language_of(request.headers.get("accept-language"))
    problem = errors.localize({"field": "notice", "rule": "too_many_notices",
                               "message": "too many refused notices from this client; try again later"}, language)
    return JSONResponse(errors.body(429, messages.title(429, language, "too many requests"), [problem]),
                        status_code=429, headers={"Retry-After": str(int(attempts.window))})


@router.get("/payments/orders", response_model=OrdersPublic)
def list_orders(session: SessionDep, principal: PaymentsManager, status_: Annotated[
        OrderStatus | None, Query(alias="status")] = None, offset: Offset = 0, limit: Limit = 50) -> OrdersPublic:
    """Payment orders, last changed first (no one's name: staff find the booking by its id)."""
    return service.list_orders(session, status=status_, offset=offset, limit=limit)


@router.get("/payments/reconciliations", response_model=ReconciliationsPublic)
def list_reconciliations(session: SessionDep, principal: PaymentsManager, offset: Offset = 0,
                         limit: Limit = 20) -> ReconciliationsPublic:
    return reconcile.list_reconciliations(session, offset=offset, limit=limit)


@router.post("/payments/reconciliations", response_model=ReconciliationPublic, status_code=status.HTTP_201_CREATED,
             responses={409: {"model": errors.ErrorBody}, 503: {"model": errors.ErrorBody}})
def run_reconciliation(body: ReconciliationRequest, session: SessionDep, ctx: ContextDep,
                       principal: PaymentsManager) -> ReconciliationPublic:
    """Reconcile a day (China time) with the provider's statement; also run daily by `fsp payments reconcile`."""
    return reconcile.reconcile(session, journal=ctx.journal, payments=ctx.payments, actor=principal.subject,
                               day=body.day)


def mount(app) -> None:
    """The routes, the tenant's provider, and the payments' counts on the app's /metrics."""
    ctx = app.state.ctx
    ctx.payments = runtime.from_settings(ctx.settings)
    app.include_router(router)
    ctx.metrics.registry.register(PaymentsCollector(ctx.engine))
