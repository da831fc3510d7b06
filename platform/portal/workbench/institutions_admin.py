"""The provincial admin's institutions: the list, a new one, a change to one, and its page (fees, disclosure).

Every read and write is the registry's own API: it validates, authorizes, audits, and clears the public
portal's cached pages; these pages only put its answers and refusals in front of the person."""
import uuid
from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.catalog import BASIS_NAMES, CATEGORY_NAMES, STATUS_NAMES, TYPE_NAMES
from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page
from registry.db_types import today_in_china

PERMISSION = "institutions:write"
FILTERS = ("q", "type", "region_code", "status")
CREATE_FIELDS = ("name", "type", "credit_code", "region_code", "address", "contact_name", "contact_phone",
                 "licence_no", "status")
EDIT_FIELDS = ("name", "address", "contact_name", "contact_phone", "licence_no", "status")
OPTIONAL_FIELDS = frozenset({"contact_name", "contact_phone", "licence_no"})
# a status that stops the institution's registrars: changing to it is confirmed first
STOPPING = frozenset({"suspended", "closed"})
CONFIRM = "confirm_status"
DONE = ("created", "updated", "unchanged", "fee", "ended", "disclosure")


def choices(names: dict) -> list[tuple[str, str]]:
    """The catalog's Chinese names of an enum as a select's options."""
    return [(str(value), name) for value, name in names.items()]


def institution_path(request: Request, institution_id: str, *, done: str | None = None, anchor: str = "") -> str:
    return workbench_path(request, f"/institutions/{institution_id}") + (f"?done={done}" if done else "") + anchor


def path_id(request: Request) -> str | None:
    """The institution of the path, or None when it is no UUID (a page that cannot exist)."""
    try:
        return str(uuid.UUID(request.path_params["institution_id"]))
    except ValueError:
        return None


@staff_page(PERMISSION)
async def institution_list(request: Request, staff: Staff) -> Response:
    """Filters are the API's own: a filter it refuses is shown beside its field, with what was typed kept."""
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/institutions",
                                     params={**query.values, "offset": paging.offset, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    rows = answer.body["data"] if answer.ok else []
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/institutions.html", staff=staff, current="wb-institutions",
                  status_code=answer.page_status, form=query, institutions=rows, total=total,
                  paging=paging.of_total(total), types=choices(TYPE_NAMES), statuses=choices(STATUS_NAMES))


@staff_page(PERMISSION)
async def new_institution(request: Request, staff: Staff) -> Response:
    return _edit_page(request, staff, Form({"status": "active"}), institution=None)


@staff_page(PERMISSION)
async def create_institution(request: Request, staff: Staff) -> Response:
    form = await forms.read(request, staff)
    # an empty required field is absent, so the registry says it is missing
    body = {name: forms.optional(form.get(name)) for name in CREATE_FIELDS
            if name in OPTIONAL_FIELDS or form.get(name)}
    answer = await registry_api.call(request, staff, "POST", "/institutions", json=body)
    if not answer.ok:
        form.take(answer)
        return _edit_page(request, staff, form, institution=None, status_code=answer.page_status)
    return RedirectResponse(institution_path(request, answer.body["id"], done="created"), status_code=303)


@staff_page(PERMISSION)
async def edit_institution(request: Request, staff: Staff) -> Response:
    found = await _institution(request, staff)
    if found is None:
        return not_found(request, staff)
    form = Form({name: found.get(name) or "" for name in EDIT_FIELDS})
    return _edit_page(request, staff, form, institution=found)


@staff_page(PERMISSION)
async def update_institution(request: Request, staff: Staff) -> Response:
    """Sends only what changed, so the audit names the fields really changed; stopping the institution's
    registrars (suspended, closed) needs the person's confirmation first."""
    found = await _institution(request, staff)
    if found is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    changes = {name: _typed(form, name) for name in EDIT_FIELDS if _typed(form, name) != found.get(name)}
    if changes.get("status") in STOPPING and form.get(CONFIRM) != "yes":
        form.refuse(CONFIRM, STAFF["inst_confirm_required"])
        return _edit_page(request, staff, form, institution=found, status_code=400)
    if not changes:
        return RedirectResponse(institution_path(request, found["id"], done="unchanged"), status_code=303)
    answer = await registry_api.call(request, staff, "PATCH", f"/institutions/{found['id']}", json=changes)
    if not answer.ok:
        form.take(answer)
        return _edit_page(request, staff, form, institution=found, status_code=answer.page_status)
    return RedirectResponse(institution_path(request, found["id"], done="updated"), status_code=303)


def _typed(form: Form, name: str) -> str | None:
    """What the API is sent for a field: an emptied optional field is cleared (None)."""
    return forms.optional(form.get(name)) if name in OPTIONAL_FIELDS else form.get(name)


async def _institution(request: Request, staff: Staff) -> dict | None:
    institution_id = path_id(request)
    if institution_id is None:
        return None
    answer = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}")
    return answer.body if answer.ok else None


def _edit_page(request: Request, staff: Staff, form: Form, *, institution: dict | None,
               status_code: int = 200) -> Response:
    return render(request, "workbench/institution_form.html", staff=staff, current="wb-institutions",
                  status_code=status_code, form=form, institution=institution, types=choices(TYPE_NAMES),
                  statuses=choices(STATUS_NAMES), stopping=sorted(STOPPING), confirm=CONFIRM)


@staff_page(PERMISSION)
async def institution_page(request: Request, staff: Staff) -> Response:
    institution_id = path_id(request)
    if institution_id is None:
        return not_found(request, staff)
    return await show(request, staff, institution_id)


async def show(request: Request, staff: Staff, institution_id: str, *, fee: Form | None = None,
               end: Form | None = None, disclosure: Form | None = None, status_code: int = 200) -> Response:
    """The institution as staff see it, its fees and disclosure, and the three forms that change them; a form
    refused (a `status_code` of 400 or more) comes back with what was typed and its refusals in place."""
    found = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}")
    if not found.ok:
        return not_found(request, staff)
    history = request.query_params.get("history") == "true"
    fees = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/service-items",
                                   params={"history": "true"} if history else None)
    disclosed = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/disclosure")
    today = today_in_china()
    items = [{**item, "state": fee_state(item, today)} for item in (fees.body["data"] if fees.ok else [])]
    if disclosure is None and disclosed.ok:
        body = disclosed.body
        disclosure = Form({"opening_hours": body["opening_hours"] or "", "commitments": "\n".join(body["commitments"]),
                           "supervising_authority": body["supervising_authority"] or "",
                           "complaint_phone": body["complaint_phone"] or ""})
    done = request.query_params.get("done")
    return render(request, "workbench/institution.html", staff=staff, current="wb-institutions",
                  status_code=status_code, institution=found.body, items=items,
                  history=history, notice=STAFF[f"done_{done}"] if done in DONE and status_code < 400 else None,
                  fee=fee or Form({"effective_from": today.isoformat()}), end=end or Form(),
                  disclosure=disclosure or Form(), endable=[item for item in items if item["state"] != "past"],
                  categories=choices(CATEGORY_NAMES), bases=choices(BASIS_NAMES))


def fee_state(item: dict, today: date) -> str:
    """`past`, `current` or `future`: where a price period stands on `today` (China time)."""
    if item["effective_to"] and date.fromisoformat(item["effective_to"]) < today:
        return "past"
    return "future" if date.fromisoformat(item["effective_from"]) > today else "current"
