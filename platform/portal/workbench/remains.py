"""Remains and ashes of a case (遗体与骨灰): what the registry holds about them, and a registrar's forms to record
each step; every form posts to the registry's own API, which decides who may and what is valid."""
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import ASHES_DESTINATION, INTERMENT_KIND, REMAINS_FORM, STAFF
from portal.workbench.views import message, not_found, render, staff_page

# the institutions an ashes destination hands the ashes to, and that inter them (cemeteries and columbaria)
RECEIVING_TYPES = ("commercial_cemetery", "public_cemetery", "columbarium")
# what a browser's datetime-local field sends (or a person types with a space): a time in China
_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$")


def china_time(value: str) -> str | None:
    """`2026-01-31T14:30` → `2026-01-31T14:30:00+08:00`; anything else goes as typed, for the API to judge."""
    found = _LOCAL_TIME.match(value)
    if found is None:
        return forms.optional(value)
    return f"{found[1]}T{found[2]}{found[3] or ':00'}+08:00"


def local_time(value: str | None) -> str:
    """An API time (`2026-01-31T14:30:00+08:00`) as a datetime-local field shows it."""
    return (value or "")[:16]


@dataclass(frozen=True)
class Step:
    """One form of the page: its fields (form name → API field), the API path it posts to, and its body."""
    name: str
    path: str
    body: Callable[[Form, Staff], dict]
    fields: dict[str, str] = field(default_factory=dict)  # API field → form field, where they differ


def _transport(form: Form, staff: Staff) -> dict:
    return {"institution_id": _own(staff), "from_address": form.get("from_address"),
            "to_address": form.get("to_address"), "vehicle_plate": form.get("vehicle_plate"),
            "departed_at": china_time(form.get("departed_at")), "arrived_at": china_time(form.get("arrived_at"))}


def _storage(form: Form, staff: Staff) -> dict:
    return {"institution_id": _own(staff), "cabinet_no": form.get("cabinet_no"),
            "stored_at": china_time(form.get("stored_at"))}


def _release(form: Form, staff: Staff) -> dict:
    return {"released_at": china_time(form.get("released_at"))}


def _ashes(form: Form, staff: Staff) -> dict:
    return {"destination": form.get("destination"), "institution_id": forms.optional(form.get("ashes_institution_id")),
            "plot_or_niche": forms.optional(form.get("ashes_plot_or_niche")), "note": forms.optional(form.get("ashes_note"))}


def _interment(form: Form, staff: Staff) -> dict:
    return {"kind": form.get("kind"), "remains_form": form.get("remains_form"),
            "institution_id": forms.optional(form.get("interment_institution_id")),
            "plot_or_niche": form.get("interment_plot_or_niche"), "interred_at": china_time(form.get("interred_at"))}


def _own(staff: Staff) -> str | None:
    """Transports and storages are the work of the registrar's own institution (the API allows no other)."""
    institution_id = staff.row.institution_id
    return str(institution_id) if institution_id else None


STEPS = {step.name: step for step in (
    Step("transport", "/transports", _transport),
    Step("storage", "/storages", _storage),
    Step("release", "/storages/{storage_id}/release", _release),
    Step("ashes", "/ashes-destination", _ashes,
         {"institution_id": "ashes_institution_id", "plot_or_niche": "ashes_plot_or_niche", "note": "ashes_note"}),
    Step("interment", "/interments", _interment,
         {"institution_id": "interment_institution_id", "plot_or_niche": "interment_plot_or_niche"}),
)}


def _case_id(request: Request) -> str | None:
    try:
        return str(uuid.UUID(request.path_params["case_id"]))
    except ValueError:
        return None


async def _read(request: Request, staff: Staff, path: str) -> registry_api.Answer:
    return await registry_api.call(request, staff, "GET", path)


async def _show(request: Request, staff: Staff, case_id: str, *, refused: Form | None = None,
                refused_step: str = "", status_code: int = 200) -> Response:
    """The page: the case, what the registry holds of its remains and ashes, and the forms the person may use
    (`refused`: the form just refused, shown again as typed with the API's messages)."""
    case = await _read(request, staff, f"/cases/{case_id}")
    if case.status == 404:
        return not_found(request, staff)  # unknown, or not this person's to see: the API answers 404 for both
    if not case.ok:
        return message(request, staff, heading=STAFF["remains_title"], text=STAFF["api_failed"], status_code=case.status)
    path = f"/cases/{case_id}"
    transports, storages, interments = [await _read(request, staff, f"{path}/{what}")
                                        for what in ("transports", "storages", "interments")]
    destination, handover = [await _read(request, staff, f"{path}/{what}") for what in ("ashes-destination", "handover")]
    listed = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 500})
    institutions = listed.body["data"] if listed.ok else []
    destination = destination.body if destination.ok else None
    handover = handover.body if handover.ok else None
    own = staff.row.institution_id is not None and str(staff.row.institution_id) == case.body["institution_id"]
    receiver = handover is not None and str(staff.row.institution_id) == handover["to_institution_id"]
    writer = staff.can("remains:write")
    blank = {name: Form() for name in STEPS}
    blank["interment"] = Form(_interment_defaults(destination))
    if refused is not None:
        blank[refused_step] = refused
    return render(request, "workbench/remains.html", staff=staff, current="wb-cases", status_code=status_code,
                  case=case.body, transports=_rows(transports), storages=_rows(storages), interments=_rows(interments),
                  destination=destination, handover=handover, forms=blank, refused=refused,
                  done=STAFF.get(f"remains_done_{request.query_params.get('done', '')}"),
                  institution_names={row["id"]: row["name"] for row in institutions},
                  receiving=[(row["id"], row["name"]) for row in institutions
                             if row["type"] in RECEIVING_TYPES and row.get("status", "active") == "active"],
                  destinations=list(ASHES_DESTINATION.items()), destination_names=ASHES_DESTINATION,
                  interment_kinds=list(INTERMENT_KIND.items()), remains_forms=list(REMAINS_FORM.items()),
                  kind_names=INTERMENT_KIND, form_names=REMAINS_FORM,
                  # a registrar of the case's institution records each step; the one its ashes went to, the interment
                  may_record=writer and own, may_inter=writer and (own or receiver))


def _rows(answer: registry_api.Answer) -> list[dict]:
    return answer.body["data"] if answer.ok else []


def _interment_defaults(destination: dict | None) -> dict[str, str]:
    """Where the ashes went is, most often, where they are interred."""
    if not destination or not destination.get("institution_id"):
        return {}
    return {"interment_institution_id": destination["institution_id"],
            "interment_plot_or_niche": destination.get("plot_or_niche") or ""}


@staff_page("cases:read")
async def remains_page(request: Request, staff: Staff) -> Response:
    case_id = _case_id(request)
    if case_id is None:
        return not_found(request, staff)
    return await _show(request, staff, case_id)


async def _record(request: Request, staff: Staff, step: Step, **path_params: str) -> Response:
    """Post one form to the API: back to the page with a notice when it is recorded (PRG), or the page again with
    the form as typed and the API's refusals beside its fields, nothing written."""
    form = await forms.read(request, staff)
    case_id = _case_id(request)
    if case_id is None:
        return not_found(request, staff)
    answer = await registry_api.call(request, staff, "POST", f"/cases/{case_id}{step.path.format(**path_params)}",
                                     json=step.body(form, staff))
    if answer.ok:
        page = workbench_path(request, f"/cases/{case_id}/remains?done={step.name}")
        return RedirectResponse(page, status_code=303)
    form.take(answer, fields=step.fields)
    return await _show(request, staff, case_id, refused=form, refused_step=step.name, status_code=answer.page_status)


# writes are the API's to allow or refuse (remains:write, the person's institution, the hand-over): a reader who
# posts anyway sees the API's refusal
@staff_page("cases:read")
async def record_transport(request: Request, staff: Staff) -> Response:
    return await _record(request, staff, STEPS["transport"])


@staff_page("cases:read")
async def record_storage(request: Request, staff: Staff) -> Response:
    return await _record(request, staff, STEPS["storage"])


@staff_page("cases:read")
async def release_storage(request: Request, staff: Staff) -> Response:
    try:
        storage_id = str(uuid.UUID(request.path_params["storage_id"]))
    except ValueError:
        return not_found(request, staff)
    return await _record(request, staff, STEPS["release"], storage_id=storage_id)


@staff_page("cases:read")
async def record_ashes_destination(request: Request, staff: Staff) -> Response:
    return await _record(request, staff, STEPS["ashes"])


@staff_page("cases:read")
async def record_interment(request: Request, staff: Staff) -> Response:
    return await _record(request, staff, STEPS["interment"])
