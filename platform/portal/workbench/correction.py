"""Correcting a case's facts (更正): the declaration's form filled with what the registry holds, and a reason.

Only what was changed is sent; numbers the registry shows masked (ID number, informant's phone) start empty
and are sent only when typed again."""
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.case_page import case_id_of, load
from portal.workbench.declaration import API_FIELDS, FACT_FIELDS, INFORMANT, choices, facts_of, local_time
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page
from registry import messages
from registry.cases.models import CaseFacts

MASKED = ("id_number", "informant_phone")


def form_of(case: dict) -> dict[str, str]:
    """The case's facts as the form's fields (what the registry holds: masked numbers left empty)."""
    values = {name: str(case.get(name) or "") for name in FACT_FIELDS if name not in INFORMANT}
    values |= {name: case["informant"][api] for name, api in INFORMANT.items()}
    values |= {"death_at": local_time(case["death_at"])} | dict.fromkeys(MASKED, "")
    return values


def changes_of(form: Form, held: dict[str, str]) -> dict:
    """What the form changes: a changed field, an emptied optional one as none, the informant as a whole.
    A required fact emptied is refused on the form: a correction can only replace it, and the API, which merges
    the changes into what it holds, would word it as a wrong type rather than as missing."""
    changed = [name for name in FACT_FIELDS if form.get(name) != held[name]]
    changes = facts_of(form, [name for name in changed if name not in INFORMANT])
    for name in changed:
        if name in INFORMANT or form.get(name):
            continue
        if CaseFacts.model_fields[name].is_required():
            form.refuse(name, messages.message("missing", name, language=messages.ZH, fallback=name))
        else:
            changes[name] = None
    if any(name in INFORMANT for name in changed):
        changes |= facts_of(form, INFORMANT)
    return changes


def _page(request: Request, staff: Staff, case: dict, form: Form, *, status_code: int = 200) -> Response:
    return render(request, "workbench/correction.html", staff=staff, current="wb-cases", status_code=status_code,
                  case=case, form=form, choices=choices())


@staff_page("cases:write")
async def correction_form(request: Request, staff: Staff) -> Response:
    view = await load(request, staff, case_id_of(request))
    return _page(request, staff, view.case, Form(form_of(view.case))) if view else not_found(request, staff)


@staff_page("cases:read")
async def correct(request: Request, staff: Staff) -> Response:
    form = await forms.read(request, staff)
    case_id = case_id_of(request)
    view = await load(request, staff, case_id)
    if view is None:
        return not_found(request, staff)
    changes = changes_of(form, form_of(view.case))
    if form.errors:
        return _page(request, staff, view.case, form, status_code=400)
    if not changes:
        form.refuse("", STAFF["correct_nothing"])
        return _page(request, staff, view.case, form, status_code=400)
    answer = await registry_api.call(request, staff, "POST", f"/cases/{case_id}/corrections",
                                     json={"changes": changes, "reason": form.get("reason")})
    if answer.ok:
        return RedirectResponse(workbench_path(request, f"/cases/{case_id}?done=correct"), status_code=303)
    form.take(answer, fields=API_FIELDS)
    return _page(request, staff, view.case, form, status_code=answer.page_status)
