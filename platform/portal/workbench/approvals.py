"""Online approvals in the workbench: the queue (kind, status, overdue, paged) and one approval with its steps,
attachments, permit and the steps the signed-in role may take. The registry's API decides who may take which step
and from which state; the page offers what the role's permission and the approval's status suggest."""
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import APPROVAL_KIND, APPROVAL_STATUS, CHANGE_KIND, FACILITY_TYPE, STAFF
from portal.workbench.views import not_found, render, staff_page

FILTERS = ("kind", "status", "overdue")
OVERDUE = [("true", STAFF["approvals_overdue_yes"]), ("false", STAFF["approvals_overdue_no"])]


@dataclass(frozen=True)
class Step:
    """One step of an approval: who may take it, from which status, and what it asks for (reasons or an opinion)."""
    name: str
    permission: str
    offered_from: str
    remark: str  # "reasons" (required by the API) or "opinion" (optional)

    @property
    def field(self) -> str:
        return f"{self.name}_{self.remark}"


# in the order of the procedure: the reviewer accepts or refuses and reviews; the provincial admin decides
STEPS = {step.name: step for step in (
    Step("accept", "approvals:review", "submitted", "opinion"),
    Step("refuse", "approvals:review", "submitted", "reasons"),
    Step("review", "approvals:review", "accepted", "opinion"),
    Step("approve", "approvals:decide", "reviewed", "opinion"),
    Step("reject", "approvals:decide", "reviewed", "reasons"),
)}


@staff_page("approvals:read")
async def approval_list(request: Request, staff: Staff) -> Response:
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/approvals",
                                     params={**query.values, "offset": paging.offset, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/approvals.html", staff=staff, current="wb-approvals",
                  status_code=answer.page_status, form=query, approvals=answer.body["data"] if answer.ok else [],
                  total=total, paging=paging.of_total(total), kinds=list(APPROVAL_KIND.items()),
                  statuses=list(APPROVAL_STATUS.items()), overdue=OVERDUE, kind_names=APPROVAL_KIND,
                  status_names=APPROVAL_STATUS, when=shown_time)


def _id(request: Request, name: str = "approval_id") -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        return None


async def _load(request: Request, staff: Staff, approval_id: uuid.UUID | None) -> dict | None:
    if approval_id is None:
        return None
    answer = await registry_api.call(request, staff, "GET", f"/approvals/{approval_id}")
    return answer.body if answer.ok else None


def _page(request: Request, staff: Staff, approval: dict, *, status_code: int = 200, failed: str | None = None,
          form: Form | None = None) -> Response:
    offered = [s for s in STEPS.values() if staff.can(s.permission) and s.offered_from == approval["status"]]
    done = request.query_params.get("done", "")
    return render(request, "workbench/approval.html", staff=staff, current="wb-approvals",
                  status_code=status_code, approval=approval, offered=offered,
                  forms={s.name: form if s.name == failed and form else Form() for s in offered},
                  failed=form or Form(), notice=STAFF.get(f"approval_done_{done}") if done in STEPS else None,
                  kind_names=APPROVAL_KIND, status_names=APPROVAL_STATUS, facility_types=FACILITY_TYPE,
                  change_kinds=CHANGE_KIND, when=shown_time)


@staff_page("approvals:read")
async def approval_page(request: Request, staff: Staff) -> Response:
    approval = await _load(request, staff, _id(request))
    return _page(request, staff, approval) if approval else not_found(request, staff)


def step_endpoint(step: Step):
    """The POST of one step: done → back to the approval with a notice; refused → the approval page with the
    refusal beside the step's field and what was typed kept."""
    @staff_page("approvals:read")
    async def take(request: Request, staff: Staff) -> Response:
        form = await forms.read(request, staff)
        approval_id = _id(request)
        if approval_id is None:
            return not_found(request, staff)
        remark = forms.optional(form.get(step.field))
        body = {step.remark: remark} if remark or step.remark == "reasons" else None
        answer = await registry_api.call(request, staff, "POST", f"/approvals/{approval_id}/{step.name}",
                                         json={k: v for k, v in body.items() if v is not None} if body else None)
        if answer.ok:
            return RedirectResponse(workbench_path(request, f"/approvals/{approval_id}?done={step.name}"),
                                    status_code=303)
        approval = await _load(request, staff, approval_id)
        if approval is None:
            return not_found(request, staff)
        form.take(answer, fields={step.remark: step.field})
        return _page(request, staff, approval, status_code=answer.page_status, failed=step.name, form=form)
    return take


@staff_page("approvals:read")
async def attachment(request: Request, staff: Staff) -> Response:
    """An attachment, fetched through the API (which audits the download) and handed on as a download."""
    approval_id, attachment_id = _id(request), _id(request, "attachment_id")
    if approval_id is None or attachment_id is None:
        return not_found(request, staff)
    answer = await registry_api.call(request, staff, "GET", f"/approvals/{approval_id}/attachments/{attachment_id}")
    if not answer.ok:
        return not_found(request, staff)
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers={
        "Content-Disposition": answer.headers.get("content-disposition", "attachment"), "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
