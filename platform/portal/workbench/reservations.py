"""Reservations in the workbench (网上预约): an institution's bookable resources (create, edit, close) and the
bookings of a day to confirm or cancel, all through the registry's reservations API. A registrar works on its own
institution; a provincial admin picks one."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page
from registry.db_types import today_in_china

MANAGE = "bookings:manage"
FIELDS = ("name", "kind", "capacity", "slot_minutes", "opens_at", "closes_at", "weekdays", "advance_days",
          "service_item_id", "free_by_policy", "status")
NUMBERS = ("capacity", "slot_minutes", "advance_days")
KINDS = ("farewell_hall", "cremation_slot", "vehicle")
BOOKING_STATUSES = ("held", "confirmed", "cancelled", "expired")


def _institution(request: Request, staff: Staff) -> str:
    """The registrar's own institution; for provincial staff the one chosen (query or form)."""
    if staff.row.institution_id:
        return str(staff.row.institution_id)
    return request.query_params.get("institution_id", "").strip()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _choices(request: Request, staff: Staff, institution_id: str) -> dict:
    """What the pages offer to choose from: institutions (provincial staff) and the institution's fee items."""
    context: dict = {"kinds": [(kind, STAFF[f"res_kind_{kind}"]) for kind in KINDS],
                     "yes_no": [("false", STAFF["res_no"]), ("true", STAFF["res_yes"])],
                     "resource_statuses": [("open", STAFF["res_status_open"]), ("closed", STAFF["res_status_closed"])],
                     "institutions": [], "fee_items": []}
    if not staff.row.institution_id:
        listed = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 200})
        context["institutions"] = [(row["id"], row["name"]) for row in listed.body["data"]] if listed.ok else []
    if _uuid(institution_id):
        items = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/service-items")
        context["fee_items"] = [(row["id"], f"{row['name']}（{row['price_fen'] / 100:.2f} 元/{row['unit']}）")
                                for row in items.body["data"]] if items.ok else []
    return context


def _body(form: Form, *, creating: bool) -> dict:
    """The API's fields from the form: numbers as numbers when they are, otherwise as typed for the API to refuse."""
    body: dict = {}
    for name in FIELDS:
        value = form.get(name)
        if name in ("kind",) and not creating or name == "status" and creating:
            continue
        if name in NUMBERS:
            body[name] = int(value) if value.isdigit() else forms.optional(value)
        elif name == "free_by_policy":
            body[name] = value == "true"
        elif name == "service_item_id":
            body[name] = forms.optional(value)
        elif value or not creating:
            body[name] = forms.optional(value)
    return body


@staff_page(MANAGE)
async def resource_list(request: Request, staff: Staff) -> Response:
    institution_id = _institution(request, staff)
    form = Form({"institution_id": institution_id})
    rows: list = []
    status = 200
    if institution_id:
        answer = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/resources/all")
        if answer.ok:
            rows = answer.body["data"]
        else:
            form.take(answer)
            status = answer.page_status
    return render(request, "workbench/resources.html", staff=staff, current="wb-resources", status_code=status,
                  extra_nav=nav(staff), form=form, rows=rows, institution_id=institution_id,
                  done=request.query_params.get("done"), **await _choices(request, staff, institution_id))


@staff_page(MANAGE)
async def new_resource(request: Request, staff: Staff) -> Response:
    institution_id = _institution(request, staff)
    if not _uuid(institution_id):
        return RedirectResponse(workbench_path(request, "/resources"), 303)
    form = Form({"kind": "farewell_hall", "capacity": "1", "slot_minutes": "60", "opens_at": "08:00",
                 "closes_at": "17:00", "weekdays": "1234567", "advance_days": "30", "free_by_policy": "false"})
    status = 200
    if request.method == "POST":
        form = await forms.read(request, staff)
        answer = await registry_api.call(request, staff, "POST", f"/institutions/{institution_id}/resources",
                                         json=_body(form, creating=True))
        if answer.ok:
            return RedirectResponse(workbench_path(request, f"/resources?institution_id={institution_id}&done=created"),
                                    303)
        form.take(answer)
        status = answer.page_status
    return render(request, "workbench/resource_form.html", staff=staff, current="wb-resources", status_code=status,
                  extra_nav=nav(staff), form=form, resource=None, institution_id=institution_id,
                  **await _choices(request, staff, institution_id))


@staff_page(MANAGE)
async def edit_resource(request: Request, staff: Staff) -> Response:
    resource_id = _uuid(request.path_params["resource_id"])
    found = await registry_api.call(request, staff, "GET", f"/resources/{resource_id}") if resource_id else None
    if found is None or not found.ok:
        return not_found(request, staff)
    resource = found.body
    institution_id = resource["institution_id"]
    form = Form({name: _shown(resource.get(name)) for name in FIELDS})
    status = 200
    if request.method == "POST":
        form = await forms.read(request, staff)
        answer = await registry_api.call(request, staff, "PATCH", f"/resources/{resource_id}",
                                         json=_body(form, creating=False))
        if answer.ok:
            return RedirectResponse(workbench_path(request, f"/resources?institution_id={institution_id}&done=updated"),
                                    303)
        form.take(answer)
        status = answer.page_status
    return render(request, "workbench/resource_form.html", staff=staff, current="wb-resources", status_code=status,
                  extra_nav=nav(staff), form=form, resource=resource, institution_id=institution_id,
                  **await _choices(request, staff, institution_id))


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:5] if isinstance(value, str) and len(value) == 8 and value[2] == ":" else str(value)


@staff_page(MANAGE)
async def bookings_of_day(request: Request, staff: Staff) -> Response:
    return await _day_page(request, staff, institution_id=_institution(request, staff),
                           on=request.query_params.get("on", "").strip() or today_in_china().isoformat())


async def _day_page(request: Request, staff: Staff, *, institution_id: str, on: str, refused: Form | None = None,
                    status_code: int = 200) -> Response:
    """The day's bookings with what staff can do to each; a refused action is shown above the table."""
    form = Form({"institution_id": institution_id, "on": on})
    rows: list = []
    if institution_id:
        answer = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/bookings",
                                         params={"on": on})
        if answer.ok:
            rows = answer.body["data"]
        else:
            form.take(answer)
            status_code = answer.page_status
    names = {}
    if rows:
        listed = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/resources/all")
        names = {row["id"]: row["name"] for row in listed.body["data"]} if listed.ok else {}
    return render(request, "workbench/bookings.html", staff=staff, current="wb-bookings", status_code=status_code,
                  extra_nav=nav(staff), form=form, refused=refused or Form(), rows=rows, resource_names=names,
                  institution_id=institution_id, done=request.query_params.get("done"),
                  statuses={status: STAFF[f"booking_status_{status}"] for status in BOOKING_STATUSES},
                  **await _choices(request, staff, ""))


async def _act(request: Request, staff: Staff, action: str) -> Response:
    booking_id = _uuid(request.path_params["booking_id"])
    if booking_id is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    institution_id = str(staff.row.institution_id or form.get("institution_id"))
    body = {"reason": forms.optional(form.get("reason"))} if action == "cancel" else None
    answer = await registry_api.call(request, staff, "POST", f"/bookings/{booking_id}/{action}", json=body)
    if not answer.ok:
        form.take(answer)
        return await _day_page(request, staff, institution_id=institution_id, on=form.get("on"), refused=form,
                               status_code=answer.page_status)
    back = f"/bookings?institution_id={institution_id}&on={form.get('on')}&done={action}"
    return RedirectResponse(workbench_path(request, back), 303)


@staff_page(MANAGE)
async def confirm_booking(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "confirm")


@staff_page(MANAGE)
async def cancel_booking(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "cancel")


def nav(staff: Staff) -> list[tuple[str, str, str]]:
    return [("/resources", "wb-resources", STAFF["nav_resources"]), ("/bookings", "wb-bookings", STAFF["nav_bookings"])]
