"""Complaints (投诉) in the workbench: the queue (overdue first, filtered) and one complaint with its actions:
assign (the province), answer (the institution or the bureau), close upheld or not (the province). The registry's
complaints API decides who may and what is valid; these pages only show its answers."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page

READ = "complaints:read"
FILTERS = ("status", "institution_id", "overdue")
STATUSES = ("received", "assigned", "escalated", "answered", "closed")
CATEGORIES = ("service_quality", "attitude", "pricing", "forced_sale", "facilities", "other")
NAV = [("/complaints", "wb-complaints", STAFF["nav_complaints"])]


def _words(prefix: str, values) -> dict[str, str]:
    return {value: STAFF[f"{prefix}_{value}"] for value in values}


async def _institution_names(request: Request, staff: Staff) -> dict[str, str]:
    answer = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 500})
    return {row["id"]: row["name"] for row in answer.body["data"]} if answer.ok else {}


def _context(names: dict[str, str]) -> dict:
    return {"status_names": _words("complaint_status", STATUSES), "category_names": _words("complaint_category", CATEGORIES),
            "institution_names": names, "extra_nav": NAV}


@staff_page(READ)
async def complaint_list(request: Request, staff: Staff) -> Response:
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/complaints",
                                     params={**query.values, "offset": paging.offset, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    total = answer.body["count"] if answer.ok else 0
    names = await _institution_names(request, staff)
    return render(request, "workbench/complaints.html", staff=staff, current="wb-complaints",
                  status_code=answer.page_status, form=query, rows=answer.body["data"] if answer.ok else [],
                  total=total, paging=paging.of_total(total), statuses=list(_words("complaint_status", STATUSES).items()),
                  institutions=sorted(names.items(), key=lambda item: item[1]),
                  overdue_options=[("true", STAFF["complaints_overdue_yes"]), ("false", STAFF["complaints_overdue_no"])],
                  **_context(names))


def _id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["complaint_id"])
    except ValueError:
        return None


async def _show(request: Request, staff: Staff, *, form: Form | None = None, status_code: int = 200) -> Response:
    complaint_id = _id(request)
    answer = await registry_api.call(request, staff, "GET", f"/complaints/{complaint_id}") if complaint_id else None
    if answer is None or not answer.ok:
        return not_found(request, staff)
    names = await _institution_names(request, staff)
    return render(request, "workbench/complaint.html", staff=staff, current="wb-complaints", status_code=status_code,
                  complaint=answer.body, form=form or Form(), done=request.query_params.get("done"),
                  upheld_options=[("true", STAFF["complaint_upheld_yes"]), ("false", STAFF["complaint_upheld_no"])],
                  **_context(names))


@staff_page(READ)
async def complaint_page(request: Request, staff: Staff) -> Response:
    return await _show(request, staff)


async def _act(request: Request, staff: Staff, action: str, body_of) -> Response:
    complaint_id = _id(request)
    if complaint_id is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", f"/complaints/{complaint_id}/{action}", json=body_of(form))
    if not answer.ok:
        form.take(answer)
        return await _show(request, staff, form=form, status_code=answer.page_status)
    return RedirectResponse(workbench_path(request, f"/complaints/{complaint_id}?done={action}"), 303)


@staff_page("complaints:handle")
async def assign(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "assign", lambda form: None)


@staff_page("complaints:answer")
async def answer(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "answer", lambda form: {"answer": form.get("answer")})


@staff_page("complaints:handle")
async def close(request: Request, staff: Staff) -> Response:
    # an unchosen finding goes to the API as absent: it names the field in its own words
    return await _act(request, staff, "close",
                      lambda form: {"upheld": form.get("upheld") == "true"} if form.get("upheld") else {})
