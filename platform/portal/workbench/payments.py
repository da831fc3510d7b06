"""Payments (网上缴费) in the workbench, for the province's admins: the payment orders of booked services and the
daily reconciliations with the provider, and a form to reconcile a day. The registry's payments API decides who
may and what is valid, and does the work; these pages only ask and show its answers."""
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import render, staff_page

MANAGE = "payments:manage"
STATUSES = ("created", "paid", "refund_requested", "refunded", "closed")
NAV = [("/payments", "wb-payments", STAFF["nav_payments"])]


def yuan(fen: int | None) -> str:
    """Integer fen as yuan, for reading: 38000 → 380.00."""
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


async def _page(request: Request, staff: Staff, *, form: Form | None = None, status_code: int = 200) -> Response:
    query = Form({"status": request.query_params.get("status", "").strip()})
    paging = Paging.of(request)
    orders = await registry_api.call(request, staff, "GET", "/payments/orders",
                                     params={**query.values, "offset": paging.offset, "limit": paging.size})
    if not orders.ok:
        query.take(orders)
    reconciliations = await registry_api.call(request, staff, "GET", "/payments/reconciliations", params={"limit": 10})
    total = orders.body["count"] if orders.ok else 0
    return render(request, "workbench/payments.html", staff=staff, current="wb-payments",
                  status_code=status_code if orders.ok else orders.page_status, query=query, form=form or Form(),
                  rows=orders.body["data"] if orders.ok else [], total=total, paging=paging.of_total(total),
                  reconciliations=reconciliations.body["data"] if reconciliations.ok else [],
                  statuses=[(status, STAFF[f"payment_status_{status}"]) for status in STATUSES],
                  status_names={status: STAFF[f"payment_status_{status}"] for status in STATUSES}, yuan=yuan,
                  done=request.query_params.get("done"), extra_nav=NAV)


@staff_page(MANAGE)
async def payments_page(request: Request, staff: Staff) -> Response:
    return await _page(request, staff)


@staff_page(MANAGE)
async def reconcile(request: Request, staff: Staff) -> Response:
    """Reconcile the typed day; the result is listed on the page (PRG), a refusal shown beside the day."""
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", "/payments/reconciliations", json={"day": form.get("day")})
    if not answer.ok:
        form.take(answer, fields={"payment": "day"})
        return await _page(request, staff, form=form, status_code=answer.page_status)
    return RedirectResponse(workbench_path(request, "/payments?done=reconciled"), status_code=303)
