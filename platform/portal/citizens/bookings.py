"""我的办事 · 网上预约: a citizen's own bookings (list, book, change, cancel) and a farewell hall's remote farewell.
Every check and write is the registry's (reservations API, called with the citizen's token): these pages only
ask, show the answers, and place its refusals beside the fields. Codes (query, invitation) are in the answer
that issued them only, so they are shown on that POST's own page and never again."""
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.citizens import ratings
from portal.citizens.session import Citizen, my_path
from portal.citizens.views import citizen_page, message, render
from portal.workbench import forms, registry_api
from portal.workbench.forms import Form

INVITEE_ROWS = 5  # rows of relatives on the remote-farewell form (no script adds more)
LIVE = ("held", "confirmed")


def when(value: str | None) -> str:
    """An API time (China time, ISO) as people read it: 2026-12-01 09:00."""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else ""


def changeable(booking: dict, now: datetime | None = None) -> bool:
    """Change and cancel are offered for a live booking whose time has not come (the registry refuses the others)."""
    return booking["status"] in LIVE and datetime.fromisoformat(booking["starts_at"]) > (now or datetime.now(UTC))


def _status(booking: dict) -> str:
    return catalog.QUERY_STATUS_NAMES.get(booking["status"], booking["status"])


def _kind(kind: str) -> str:
    return catalog.TEXT.get(f"mybk_kind_{kind}", kind)


def _day(value: str | None) -> str:
    """A day typed in a form or query, or "" when it is none: the API gets only a well-formed one."""
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError:
        return ""


async def _resource_names(request: Request, citizen: Citizen, bookings: list[dict]) -> dict[str, str]:
    names = {}
    for resource_id in {booking["resource_id"] for booking in bookings}:
        answer = await registry_api.call(request, citizen, "GET", f"/resources/{resource_id}")
        names[resource_id] = answer.body["name"] if answer.ok else ""
    return names


def _not_found(request: Request, citizen: Citizen) -> Response:
    return message(request, citizen, heading=catalog.TEXT["mybk_not_found_title"],
                   text=catalog.TEXT["mybk_not_found"], status_code=404,
                   link=(my_path(request, "/bookings"), catalog.TEXT["mybk_back"]))


async def _list_page(request: Request, citizen: Citizen, *, errors: dict[str, Form] | None = None,
                     status_code: int = 200) -> Response:
    answer = await registry_api.call(request, citizen, "GET", "/my/bookings")
    bookings = answer.body["data"] if answer.ok else []
    names = await _resource_names(request, citizen, bookings)
    payments = await _payments(request, citizen, bookings)
    notice_key = {"changed": "mybk_changed", "cancelled": "mybk_cancelled",
                  "paid": "mypay_paid"}.get(request.query_params.get("done", ""))
    response = render(request, "my/bookings.html", citizen=citizen, status_code=status_code, bookings=bookings,
                      names=names, status_of=_status, kind_of=_kind, when=when, live=LIVE, changeable=changeable,
                      errors=errors or {},
                      notice=catalog.TEXT[notice_key] if notice_key else None, payments=payments, fee_of=_fee,
                      payable=PAYABLE, completed=ratings.completed,
                      rated=await ratings.ratings_by_booking(request, citizen))
    provider = request.app.state.ctx.settings.payment_provider_url
    if provider:  # 支付 is answered by a redirect to the provider's pay page: the one other place a form may lead
        site = urlsplit(provider)
        response.headers["Content-Security-Policy"] = (f"frame-ancestors 'none'; form-action 'self' "
                                                       f"{site.scheme}://{site.netloc}")
    return response


# 网上缴费: a booking's fee and its payment (registry.payments); the payer goes to the provider's page and back
PAYABLE = ("unpaid", "created", "closed")


def _fee(payment: dict | None) -> str:
    """The fee as people read it (yuan from integer fen) with how its payment stands."""
    if not payment:
        return ""
    state = catalog.TEXT[f"mypay_state_{payment['state']}"]
    if payment["state"] in ("free", "unpriced") or payment["amount_fen"] is None:
        return state
    yuan = f"{payment['amount_fen'] // 100}.{payment['amount_fen'] % 100:02d}"
    return f"{catalog.TEXT['mypay_fee'].format(yuan=yuan)} {state}"


async def _payments(request: Request, citizen: Citizen, bookings: list[dict]) -> dict[str, dict]:
    found = {}
    for booking in bookings:
        answer = await registry_api.call(request, citizen, "GET", f"/my/bookings/{booking['id']}/payment")
        if answer.ok:
            found[booking["id"]] = answer.body
    return found


@citizen_page
async def pay(request: Request, citizen: Citizen) -> Response:
    """Start the payment and send the payer to the provider's pay page; it sends them back to 我的预约."""
    booking_id = str(request.path_params["booking_id"])
    form = await forms.read(request, citizen)
    answer = await registry_api.call(request, citizen, "POST", f"/my/bookings/{booking_id}/payment",
                                     json={"return_path": my_path(request, "/bookings?done=paid")})
    if answer.status == 404:
        return _not_found(request, citizen)
    if not answer.ok:
        form.take(answer, fields={"booking_id": "pay", "payment": "pay", "return_path": "pay"})
        return await _list_page(request, citizen, errors={booking_id: form}, status_code=answer.page_status)
    return RedirectResponse(answer.body["pay_url"], status_code=303)


@citizen_page
async def list_bookings(request: Request, citizen: Citizen) -> Response:
    """The citizen's bookings, newest first as the registry lists them, with change and cancel for live ones still to come."""
    return await _list_page(request, citizen)


@citizen_page
async def cancel(request: Request, citizen: Citizen) -> Response:
    booking_id = str(request.path_params["booking_id"])
    form = await forms.read(request, citizen)
    answer = await registry_api.call(request, citizen, "POST", f"/my/bookings/{booking_id}/cancel",
                                     json={"reason": forms.optional(form.get("reason"))})
    if answer.status == 404:
        return _not_found(request, citizen)
    if not answer.ok:
        form.take(answer, fields={"booking_id": "reason"})
        return await _list_page(request, citizen, errors={booking_id: form}, status_code=answer.page_status)
    return RedirectResponse(my_path(request, "/bookings?done=cancelled"), status_code=303)


async def _slots(request: Request, citizen: Citizen, resource_id: str, day: str) -> list[dict]:
    if not (resource_id and day):
        return []
    answer = await registry_api.call(request, citizen, "GET", f"/resources/{resource_id}/slots", params={"on": day})
    return [slot for slot in answer.body["data"] if slot["free"] > 0] if answer.ok else []


async def _change_page(request: Request, citizen: Citizen, booking: dict, form: Form, *,
                       status_code: int = 200) -> Response:
    day = _day(form.get("on")) or booking["starts_at"][:10]
    slots = await _slots(request, citizen, booking["resource_id"], day)
    names = await _resource_names(request, citizen, [booking])
    return render(request, "my/booking_change.html", citizen=citizen, status_code=status_code, booking=booking,
                  form=form, day=day, slots=slots, when=when, hall=names[booking["resource_id"]],
                  status_of=_status)


async def _own(request: Request, citizen: Citizen) -> dict | None:
    answer = await registry_api.call(request, citizen, "GET", f"/my/bookings/{request.path_params['booking_id']}")
    return answer.body if answer.ok else None


@citizen_page
async def change_page(request: Request, citizen: Citizen) -> Response:
    """Another slot of the same resource: a day, then one of its free slots."""
    booking = await _own(request, citizen)
    if booking is None:
        return _not_found(request, citizen)
    return await _change_page(request, citizen, booking, Form({"on": request.query_params.get("on", "")}))


@citizen_page
async def change(request: Request, citizen: Citizen) -> Response:
    form = await forms.read(request, citizen)
    booking = await _own(request, citizen)
    if booking is None:
        return _not_found(request, citizen)
    if not form.get("starts_at"):
        form.values["starts_at"] = ""  # the summary links to the slots
        form.refuse("starts_at", catalog.TEXT["mybk_pick_slot"])
        return await _change_page(request, citizen, booking, form, status_code=400)
    answer = await registry_api.call(request, citizen, "POST", f"/my/bookings/{booking['id']}/change",
                                     json={"starts_at": form.get("starts_at")})
    if not answer.ok:
        form.take(answer, fields={"booking_id": "starts_at", "slot": "starts_at"})
        return await _change_page(request, citizen, booking, form, status_code=answer.page_status)
    return RedirectResponse(my_path(request, "/bookings?done=changed"), status_code=303)


async def _new_page(request: Request, citizen: Citizen, form: Form, *, status_code: int = 200) -> Response:
    """One page, filled in step by step with plain GET forms: institution, then resource and day, then a slot."""
    answer = await registry_api.call(request, citizen, "GET", "/institutions", params={"status": "active", "limit": 500})
    institutions = [(row["id"], row["name"]) for row in answer.body["data"]] if answer.ok else []
    institution = form.get("institution") if form.get("institution") in {key for key, _ in institutions} else ""
    resources = []
    if institution:
        answer = await registry_api.call(request, citizen, "GET", f"/institutions/{institution}/resources")
        resources = [(row["id"], f"{row['name']}（{_kind(row['kind'])}）") for row in answer.body["data"]] if answer.ok else []
    resource = form.get("resource") if form.get("resource") in {key for key, _ in resources} else ""
    day = _day(form.get("on"))
    slots = await _slots(request, citizen, resource, day)
    return render(request, "my/booking_new.html", citizen=citizen, status_code=status_code, form=form,
                  institutions=institutions, institution=institution, resources=resources, resource=resource,
                  day=day, slots=slots, when=when)


@citizen_page
async def new_page(request: Request, citizen: Citizen) -> Response:
    return await _new_page(request, citizen, Form(dict(request.query_params)))


@citizen_page
async def book(request: Request, citizen: Citizen) -> Response:
    """Hold the slot; the query code is in this answer only, so this page shows it (and is never cached)."""
    form = await forms.read(request, citizen)
    if not form.get("starts_at"):
        form.values["starts_at"] = ""  # the summary links to the slots
        form.refuse("starts_at", catalog.TEXT["mybk_pick_slot"])
        return await _new_page(request, citizen, form, status_code=400)
    answer = await registry_api.call(request, citizen, "POST", "/my/bookings", json={
        "resource_id": form.get("resource"), "starts_at": form.get("starts_at"),
        "for_name": form.get("for_name"), "for_phone": form.get("for_phone")})
    if not answer.ok:
        form.take(answer, fields={"resource_id": "resource", "slot": "starts_at"})
        return await _new_page(request, citizen, form, status_code=answer.page_status)
    names = await _resource_names(request, citizen, [answer.body])
    return render(request, "my/booking_made.html", citizen=citizen, booking=answer.body, when=when,
                  hall=names[answer.body["resource_id"]], status_of=_status)


def _farewell_body(form: Form) -> dict:
    invitees = []
    for row in range(1, INVITEE_ROWS + 1):
        name, phone = form.get(f"invitee_name_{row}"), form.get(f"invitee_phone_{row}")
        if name or phone:
            invitees.append({"name": name, "phone": phone})
    return {"join_link": form.get("join_link"), "invitees": invitees,
            # the form's times are China's wall clock; the API wants the zone stated
            "starts_at": form.get("starts_at") and form.get("starts_at") + "+08:00",
            "ends_at": form.get("ends_at") and form.get("ends_at") + "+08:00"}


def _farewell_fields(answer: registry_api.Answer) -> dict[str, str]:
    """The API's `invitees.0.name` is the form's `invitee_name_1`; its refusal of the list, the first row."""
    fields = {"invitees": "invitee_name_1", "booking_id": "join_link"}
    for problem in answer.problems:
        parts = str(problem.get("field", "")).split(".")
        if len(parts) == 3 and parts[0] == "invitees" and parts[1].isdigit():
            fields[problem["field"]] = f"invitee_{parts[2]}_{int(parts[1]) + 1}"
    return fields


async def _farewell_page(request: Request, citizen: Citizen, booking: dict, form: Form, *,
                         status_code: int = 200) -> Response:
    names = await _resource_names(request, citizen, [booking])
    current = await registry_api.call(request, citizen, "GET", f"/my/bookings/{booking['id']}/remote-farewell")
    return render(request, "my/booking_farewell.html", citizen=citizen, status_code=status_code, booking=booking,
                  form=form, when=when, hall=names[booking["resource_id"]], rows=range(1, INVITEE_ROWS + 1),
                  remote=current.body if current.ok else None)


@citizen_page
async def farewell_page(request: Request, citizen: Citizen) -> Response:
    """The remote farewell of a farewell-hall booking: the video link, the session's times, who is invited."""
    booking = await _own(request, citizen)
    if booking is None:
        return _not_found(request, citizen)
    start, end = booking["starts_at"][:16], booking["ends_at"][:16]
    return await _farewell_page(request, citizen, booking, Form({"starts_at": start, "ends_at": end}))


@citizen_page
async def set_farewell(request: Request, citizen: Citizen) -> Response:
    form = await forms.read(request, citizen)
    booking = await _own(request, citizen)
    if booking is None:
        return _not_found(request, citizen)
    answer = await registry_api.call(request, citizen, "PUT", f"/my/bookings/{booking['id']}/remote-farewell",
                                     json=_farewell_body(form))
    if not answer.ok:
        form.take(answer, fields=_farewell_fields(answer))
        return await _farewell_page(request, citizen, booking, form, status_code=answer.page_status)
    return render(request, "my/booking_farewell_set.html", citizen=citizen, booking=booking, farewell=answer.body,
                  when=when)
