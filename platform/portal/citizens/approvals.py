"""我的办事 · 网上审批: the citizen's own applications (facility approvals, transport of remains), one application with
its steps, attachments and permit, the application form and attachment upload. The registry's API decides what is
valid and whose an application is; the pages only show its answers (another citizen's application is not found)."""
import uuid

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.certificates import qr_svg
from portal.citizens.session import Citizen, my_path
from portal.citizens.views import citizen_page, message, render
from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from portal.workbench.text import APPROVAL_KIND, APPROVAL_STATUS, CHANGE_KIND, FACILITY_TYPE, ID_TYPE_NAMES

# the form's fields of each kind, in the order the form shows them (the API's names: its refusals land beside them)
FIELDS = {
    "facility": ("organisation_name", "credit_code", "region_code", "facility_type", "change_kind", "description"),
    "transport": ("deceased_name", "id_type", "id_number", "from_region", "from_place", "to_region", "to_place",
                  "planned_on", "vehicle_plate", "escort_name", "escort_phone"),
}
NAMES = {"kind_names": APPROVAL_KIND, "status_names": APPROVAL_STATUS, "facility_types": FACILITY_TYPE,
         "change_kinds": CHANGE_KIND, "id_types": ID_TYPE_NAMES, "when": shown_time}


def not_found(request: Request, citizen: Citizen) -> Response:
    return message(request, citizen, heading=catalog.TEXT["my_not_found_title"], text=catalog.TEXT["my_not_found"],
                   status_code=404)


def item_id(request: Request, name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        return None


@citizen_page
async def approval_list(request: Request, citizen: Citizen) -> Response:
    answer = await registry_api.call(request, citizen, "GET", "/my/approvals", params={"limit": 200})
    return render(request, "my/approvals.html", citizen=citizen, status_code=answer.page_status,
                  approvals=answer.body["data"] if answer.ok else [], failed=not answer.ok, **NAMES)


def _kind(request: Request) -> str:
    kind = request.query_params.get("kind", "")
    return kind if kind in FIELDS else ""


def _form_page(request: Request, citizen: Citizen, kind: str, form: Form, *, status_code: int = 200) -> Response:
    return render(request, "my/approval_new.html", citizen=citizen, status_code=status_code, kind=kind, form=form,
                  kinds=list(APPROVAL_KIND.items()), facility_type_options=list(FACILITY_TYPE.items()),
                  change_kind_options=list(CHANGE_KIND.items()), id_type_options=list(ID_TYPE_NAMES.items()))


@citizen_page
async def new_approval(request: Request, citizen: Citizen) -> Response:
    """Without a kind: the two kinds to choose from; with one: its form."""
    return _form_page(request, citizen, _kind(request), Form())


@citizen_page
async def submit_approval(request: Request, citizen: Citizen) -> Response:
    """Submitted: the query code is on this answer only (the registry keeps its digest); refused: the form again,
    as typed, each refusal beside its field, nothing written."""
    form = await forms.read(request, citizen)
    kind = _kind(request)
    if not kind:
        return _form_page(request, citizen, "", Form(), status_code=400)
    details = {name: forms.optional(form.get(name)) for name in FIELDS[kind]}
    answer = await registry_api.call(request, citizen, "POST", "/approvals",
                                     json={"kind": kind, kind: {k: v for k, v in details.items() if v is not None}})
    if not answer.ok:
        form.take(answer, fields={f"{kind}.{name}": name for name in FIELDS[kind]} | {kind: ""})
        return _form_page(request, citizen, kind, form, status_code=answer.page_status)
    approval = answer.body["approval"]
    return render(request, "my/created.html", citizen=citizen, status_code=201, code=answer.body["query_code"],
                  number=approval["number"], heading=catalog.TEXT["my_approval_created"],
                  href=my_path(request, f"/approvals/{approval['id']}"), link=catalog.TEXT["my_approval_open"])


def _page(request: Request, citizen: Citizen, approval: dict, *, form: Form | None = None,
          status_code: int = 200) -> Response:
    permit = approval.get("permit")
    return render(request, "my/approval.html", citizen=citizen, status_code=status_code, approval=approval,
                  form=form or Form(), qr=qr_svg(permit["qr_text"]) if permit else None,
                  uploaded=request.query_params.get("uploaded") == "1",
                  can_attach=approval["status"] in ("submitted", "accepted"), **NAMES)


async def _load(request: Request, citizen: Citizen, approval_id: uuid.UUID | None) -> dict | None:
    if approval_id is None:
        return None
    answer = await registry_api.call(request, citizen, "GET", f"/my/approvals/{approval_id}")
    return answer.body if answer.ok else None


@citizen_page
async def approval_page(request: Request, citizen: Citizen) -> Response:
    approval = await _load(request, citizen, item_id(request, "approval_id"))
    return _page(request, citizen, approval) if approval else not_found(request, citizen)


@citizen_page
async def upload(request: Request, citizen: Citizen) -> Response:
    """A file for one's own application (multipart); the registry judges it by its content, not its name."""
    form = await forms.read(request, citizen)
    approval_id = item_id(request, "approval_id")
    if approval_id is None:
        return not_found(request, citizen)
    posted = await request.form()
    file = posted.get("file")
    data = await file.read() if isinstance(file, UploadFile) else b""
    if data:
        answer = await registry_api.call(request, citizen, "POST", f"/my/approvals/{approval_id}/attachments",
                                         content=data)
        if answer.ok:
            return RedirectResponse(my_path(request, f"/approvals/{approval_id}?uploaded=1"), status_code=303)
        form.take(answer, fields={"body": "file"})
        status_code = answer.page_status
    else:
        form.refuse("file", catalog.TEXT["my_attachment_missing"])
        status_code = 400
    approval = await _load(request, citizen, approval_id)
    if approval is None:
        return not_found(request, citizen)
    return _page(request, citizen, approval, form=form, status_code=status_code)


@citizen_page
async def attachment(request: Request, citizen: Citizen) -> Response:
    """One's own file, fetched through the API (which audits the download)."""
    approval_id, attachment_id = item_id(request, "approval_id"), item_id(request, "attachment_id")
    if approval_id is None or attachment_id is None:
        return not_found(request, citizen)
    answer = await registry_api.call(request, citizen, "GET", f"/my/approvals/{approval_id}/attachments/{attachment_id}")
    if not answer.ok:
        return not_found(request, citizen)
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers={
        "Content-Disposition": answer.headers.get("content-disposition", "attachment"), "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
