"""Equipment in the workbench (设备监测): an institution's devices with their health (newest values, silent since),
a form to register one and a button to revoke one, all through the registry's equipment API. A registrar works
on its own institution; a provincial admin picks one."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import render, staff_page

MANAGE = "equipment:manage"
KINDS = ("cremator", "cold_storage", "emission_monitor")
LIMITS = ("temperature_max_c", "cycle_max_minutes", "emission_max_mg_m3")
# what the health columns show, per metric: how a value reads
SHOWN = ("temperature_c", "running", "door_open", "emission_mg_m3")


def _institution(request: Request, staff: Staff) -> str:
    """The registrar's own institution; for provincial staff the one chosen."""
    if staff.row.institution_id:
        return str(staff.row.institution_id)
    return request.query_params.get("institution_id", "").strip()


def _number(value: str) -> float | str:
    """A limit as a number when it is one, otherwise as typed, for the API to refuse beside its field."""
    try:
        return float(value)
    except ValueError:
        return value


def _body(form: Form) -> dict:
    limits = {name: _number(form.get(name)) for name in LIMITS if form.get(name)}
    return {"kind": form.get("kind"), "model": form.get("model"), "location": form.get("location"), "limits": limits}


def _health(device: dict) -> dict:
    """The device with its newest values by metric, as the table reads them."""
    latest = {value["metric"]: value for value in device["latest"]}
    return {**device, "values": {metric: latest[metric]["value"] for metric in SHOWN if metric in latest}}


async def _page(request: Request, staff: Staff, institution_id: str, form: Form, status: int = 200) -> Response:
    rows: list = []
    if institution_id:
        answer = await registry_api.call(request, staff, "GET", f"/institutions/{institution_id}/devices")
        if answer.ok:
            rows = [_health(device) for device in answer.body["data"]]
        elif status == 200:
            form.take(answer)
            status = answer.page_status
    institutions: list = []
    if not staff.row.institution_id:
        listed = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 200})
        institutions = [(row["id"], row["name"]) for row in listed.body["data"]] if listed.ok else []
    return render(request, "workbench/devices.html", staff=staff, current="wb-devices", status_code=status,
                  extra_nav=nav(staff), form=form, rows=rows, institution_id=institution_id,
                  institutions=institutions, kinds=[(kind, STAFF[f"eq_kind_{kind}"]) for kind in KINDS],
                  done=request.query_params.get("done"))


@staff_page(MANAGE)
async def device_list(request: Request, staff: Staff) -> Response:
    institution_id = _institution(request, staff)
    return await _page(request, staff, institution_id, Form({"institution_id": institution_id, "kind": "cremator"}))


@staff_page(MANAGE)
async def register_device(request: Request, staff: Staff) -> Response:
    """On success the credential is shown on the answer page itself, once: a redirect would have to keep it
    somewhere to show it again."""
    institution_id = _institution(request, staff)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", f"/institutions/{institution_id}/devices",
                                     json=_body(form))
    if not answer.ok:
        form.take(answer, fields={f"limits.{name}": name for name in LIMITS})
        return await _page(request, staff, institution_id, form, answer.page_status)
    return render(request, "workbench/device_credential.html", staff=staff, current="wb-devices",
                  extra_nav=nav(staff), device=answer.body["device"], credential=answer.body["credential"],
                  kind=STAFF[f"eq_kind_{answer.body['device']['kind']}"])


@staff_page(MANAGE)
async def revoke_device(request: Request, staff: Staff) -> Response:
    await forms.read(request, staff)
    device_id = request.path_params["device_id"]
    institution_id = _institution(request, staff)
    try:
        uuid.UUID(device_id)
    except ValueError:
        return RedirectResponse(workbench_path(request, f"/devices?institution_id={institution_id}"), 303)
    answer = await registry_api.call(request, staff, "POST", f"/devices/{device_id}/revoke")
    if not answer.ok:
        form = Form({"institution_id": institution_id, "kind": "cremator"})
        form.take(answer)
        return await _page(request, staff, institution_id, form, answer.page_status)
    return RedirectResponse(workbench_path(request, f"/devices?institution_id={answer.body['institution_id']}"
                                                    "&done=revoked"), 303)


def nav(staff: Staff) -> list[tuple[str, str, str]]:
    return [("/devices", "wb-devices", STAFF["nav_devices"])]
