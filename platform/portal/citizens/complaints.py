"""我的办事 · 投诉: the citizen's own complaints, a new complaint against an institution of the public directory,
one complaint with its answer and, once answered, the complainant's word on whether it resolved the matter."""
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.citizens.approvals import item_id, not_found
from portal.citizens.session import Citizen, my_path
from portal.citizens.views import citizen_page, render
from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from registry.complaints.models import ComplaintCategory, ComplaintStatus

FIELDS = ("institution_id", "category", "text", "contact")
CATEGORIES = {c.value: catalog.TEXT[f"my_complaint_category_{c.value}"] for c in ComplaintCategory}
STATUSES = {s.value: catalog.TEXT[f"my_complaint_status_{s.value}"] for s in ComplaintStatus}


async def _institutions(request: Request, citizen: Citizen) -> dict[str, str]:
    """The public directory's institutions in service, by id: whom a complaint may be about."""
    answer = await registry_api.call(request, citizen, "GET", "/institutions", params={"status": "active", "limit": 500})
    return {row["id"]: row["name"] for row in answer.body["data"]} if answer.ok else {}


@citizen_page
async def complaint_list(request: Request, citizen: Citizen) -> Response:
    answer = await registry_api.call(request, citizen, "GET", "/my/complaints", params={"limit": 100})
    return render(request, "my/complaints.html", citizen=citizen, status_code=answer.page_status,
                  complaints=answer.body["data"] if answer.ok else [], failed=not answer.ok,
                  institutions=await _institutions(request, citizen), categories=CATEGORIES, statuses=STATUSES,
                  when=shown_time)


async def _form_page(request: Request, citizen: Citizen, form: Form, *, status_code: int = 200) -> Response:
    institutions = await _institutions(request, citizen)
    return render(request, "my/complaint_new.html", citizen=citizen, status_code=status_code, form=form,
                  institution_options=list(institutions.items()), category_options=list(CATEGORIES.items()))


@citizen_page
async def new_complaint(request: Request, citizen: Citizen) -> Response:
    return await _form_page(request, citizen, Form())


@citizen_page
async def submit_complaint(request: Request, citizen: Citizen) -> Response:
    """Filed: the query code is on this answer only; refused: the form again as typed, nothing written."""
    form = await forms.read(request, citizen)
    answer = await registry_api.call(request, citizen, "POST", "/my/complaints",
                                     json={name: forms.optional(form.get(name)) for name in FIELDS})
    if not answer.ok:
        form.take(answer)
        return await _form_page(request, citizen, form, status_code=answer.page_status)
    return render(request, "my/created.html", citizen=citizen, status_code=201, code=answer.body["query_code"],
                  number=answer.body["number"], heading=catalog.TEXT["my_complaint_created"],
                  href=my_path(request, f"/complaints/{answer.body['id']}"), link=catalog.TEXT["my_complaint_open"])


async def _load(request: Request, citizen: Citizen) -> dict | None:
    complaint_id = item_id(request, "complaint_id")
    if complaint_id is None:
        return None
    answer = await registry_api.call(request, citizen, "GET", f"/my/complaints/{complaint_id}")
    return answer.body if answer.ok else None


async def _page(request: Request, citizen: Citizen, complaint: dict, *, form: Form | None = None,
                status_code: int = 200) -> Response:
    institutions = await _institutions(request, citizen)
    return render(request, "my/complaint.html", citizen=citizen, status_code=status_code, complaint=complaint,
                  institution=institutions.get(complaint["institution_id"], ""), form=form or Form(),
                  categories=CATEGORIES, statuses=STATUSES, when=shown_time,
                  thanked=request.query_params.get("feedback") == "1",
                  asks_feedback=complaint["answer"] is not None and complaint["resolved"] is None)


@citizen_page
async def complaint_page(request: Request, citizen: Citizen) -> Response:
    complaint = await _load(request, citizen)
    return await _page(request, citizen, complaint) if complaint else not_found(request, citizen)


@citizen_page
async def feedback(request: Request, citizen: Citizen) -> Response:
    """解决 / 未解决, once answered: the registry refuses it before the answer or a second time."""
    form = await forms.read(request, citizen)
    complaint = await _load(request, citizen)
    if complaint is None:
        return not_found(request, citizen)
    resolved = {"yes": True, "no": False}.get(form.get("resolved"))
    if resolved is None:
        form.refuse("resolved", catalog.TEXT["my_complaint_feedback_missing"])
        return await _page(request, citizen, complaint, form=form, status_code=400)
    answer = await registry_api.call(request, citizen, "POST", f"/my/complaints/{complaint['id']}/feedback",
                                     json={"resolved": resolved})
    if answer.ok:
        return RedirectResponse(my_path(request, f"/complaints/{complaint['id']}?feedback=1"), status_code=303)
    form.take(answer)
    return await _page(request, citizen, complaint, form=form, status_code=answer.page_status)
