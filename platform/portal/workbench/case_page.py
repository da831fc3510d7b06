"""The case page: the case as the registry gives it, and what the signed-in person may do with it next.

What is offered follows the person's role and the case's state; what is allowed is the API's to say: an action
posted by someone it does not trust is refused there, and the page shows that refusal."""
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.render import province_name
from portal.workbench import forms, registry_api
from portal.workbench.declaration import CHOICES, china_time
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import CERTIFICATE_STATUS, STAFF
from portal.workbench.views import not_found, render, staff_page
from registry.messages import FIELD_NAMES


@dataclass
class CaseView:
    """A case and what hangs on it, each read through the API."""
    case: dict
    corrections: list[dict]
    cremation: dict | None
    certificates: list[dict]
    # the pairs the ministry found of this person in another province (a reviewer's to check), newest first
    matches: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.case["status"]

    @property
    def archived(self) -> bool:
        return self.case.get("archived_at") is not None

    @property
    def valid_certificate(self) -> dict | None:
        return next((c for c in self.certificates if c["status"] == "valid"), None)

    @property
    def check_codes(self) -> bool:
        """Whether the API gives certificates a check code (校验码) to show."""
        return any(c.get("check_code") for c in self.certificates)


def _cremation_body(form: Form, staff: Staff) -> dict:
    """The cremation at the person's own institution; an empty field is left out, for the API to ask for it."""
    body = {"institution_id": str(staff.row.institution_id or ""), "furnace_no": form.get("furnace_no"),
            "operator_name": form.get("operator_name"), "started_at": china_time(form.get("started_at")),
            "ended_at": china_time(form.get("ended_at"))}
    return {name: value for name, value in body.items() if value}


@dataclass(frozen=True)
class Action:
    """One thing done to a case: when it is offered, the API call it makes, and where the API's refusals go."""
    name: str
    permission: str
    path: str  # under /cases/{id} of the API
    offered: Callable[[CaseView], bool]
    body: Callable[[Form, Staff], dict | None] = lambda form, staff: None
    fields: dict[str, str] = field(default_factory=dict)  # API field → form field


def _reason(name: str) -> Action:
    return Action(name, "cremations:write", f"/certificates/{name}",
                  lambda v: v.valid_certificate is not None and not v.archived,
                  body=lambda form, staff: {"reason": form.get(f"{name}_reason")}, fields={"reason": f"{name}_reason"})


# in the order of a case's life
ACTIONS = {action.name: action for action in (
    Action("register", "cases:review", "/register", lambda v: v.status == "declared" and not v.archived),
    Action("cremation", "cremations:write", "/cremation",
           lambda v: v.status == "registered" and v.cremation is None and not v.archived, body=_cremation_body),
    Action("issue", "cremations:write", "/certificates",
           lambda v: v.cremation is not None and v.valid_certificate is None and not v.archived),
    _reason("reissue"),
    _reason("cancel"),
    Action("close", "cases:write", "/close", lambda v: v.status in ("cremated", "buried") and not v.archived),
    Action("archive", "cases:review", "/archive", lambda v: v.status == "closed" and not v.archived),
)}


def case_id_of(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["case_id"])
    except ValueError:
        return None


async def load(request: Request, staff: Staff, case_id: uuid.UUID | None) -> CaseView | None:
    """The case and its corrections, cremation and certificates; None where the API finds no such case for
    this person (another institution's case is not found, whatever it is)."""
    if case_id is None:
        return None
    case = await registry_api.call(request, staff, "GET", f"/cases/{case_id}")
    if not case.ok:
        return None
    corrections = await registry_api.call(request, staff, "GET", f"/cases/{case_id}/corrections")
    cremation = await registry_api.call(request, staff, "GET", f"/cases/{case_id}/cremation")
    certificates = await registry_api.call(request, staff, "GET", f"/cases/{case_id}/certificates")
    matches = await registry_api.call(request, staff, "GET", "/cross-province-matches",
                                      params={"case_id": str(case_id)}) if staff.can("cases:review") else None
    return CaseView(case.body, corrections.body if corrections.ok else [], cremation.body if cremation.ok else None,
                    certificates.body["data"] if certificates.ok else [],
                    matches.body["data"] if matches is not None and matches.ok else [])


def field_label(name: str) -> str:
    """A field's name as staff know it (the registry's own catalog, which words its refusals)."""
    return FIELD_NAMES.get(name, (name,))[0]


def shown_time(value: str | None) -> str:
    """An API time (China time) as staff read it: `2026-01-31 14:30`."""
    return (value or "")[:16].replace("T", " ")


def _page(request: Request, staff: Staff, view: CaseView, *, status_code: int = 200, failed: str | None = None,
          form: Form | None = None, disclosed: dict | None = None) -> Response:
    offered = [a.name for a in ACTIONS.values() if staff.can(a.permission) and a.offered(view)]
    action_forms = {name: form if name == failed and form else Form() for name in offered}
    done = request.query_params.get("done", "")
    return render(request, "workbench/case.html", staff=staff, current="wb-cases", status_code=status_code,
                  view=view, case=view.case, offered=offered, forms=action_forms, failed=form or Form(),
                  notice=STAFF.get(f"done_{done}") if done else None, disclosed=disclosed,
                  may_correct=staff.can("cases:write") and not view.archived,
                  may_disclose=staff.can("personal-data:read") and view.case["id_type"] != "none",
                  names=CHOICES, certificate_status=CERTIFICATE_STATUS, when=shown_time, field_label=field_label,
                  province_name=province_name)


@staff_page("cases:read")
async def case_page(request: Request, staff: Staff) -> Response:
    view = await load(request, staff, case_id_of(request))
    return _page(request, staff, view) if view else not_found(request, staff)


def action_endpoint(action: Action) -> Callable:
    """The POST of one action: done → back to the case with a notice; refused → the case page with the refusal
    beside the action's fields and what was typed kept."""
    @staff_page("cases:read")
    async def act(request: Request, staff: Staff) -> Response:
        form = await forms.read(request, staff)
        case_id = case_id_of(request)
        if case_id is None:
            return not_found(request, staff)
        answer = await registry_api.call(request, staff, "POST", f"/cases/{case_id}{action.path}",
                                         json=action.body(form, staff))
        if answer.ok:
            return RedirectResponse(workbench_path(request, f"/cases/{case_id}?done={action.name}"), status_code=303)
        view = await load(request, staff, case_id)
        if view is None:
            return not_found(request, staff)
        form.take(answer, fields=action.fields)
        return _page(request, staff, view, status_code=answer.page_status, failed=action.name, form=form)
    return act


@staff_page("cases:read")
async def disclose_id_number(request: Request, staff: Staff) -> Response:
    """The full ID number, read through the API (which audits the read), shown on this response only: a POST,
    so the number is never in a URL, a history entry or a cache."""
    form = await forms.read(request, staff)
    case_id = case_id_of(request)
    view = await load(request, staff, case_id)
    if view is None:
        return not_found(request, staff)
    answer = await registry_api.call(request, staff, "GET", f"/cases/{case_id}/id-number")
    if answer.ok:
        return _page(request, staff, view, disclosed=answer.body)
    form.take(answer)
    return _page(request, staff, view, status_code=answer.page_status, form=form)
