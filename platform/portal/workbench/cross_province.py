"""Cross-province matches (跨省重复登记核查) in the workbench: the pairs the ministry found of one person registered
here and in another province, for the province's reviewers to check and settle (the same person, or two people).
The registry's API decides who may; these pages show its answers and post the reviewer's finding."""
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.render import province_name
from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page

REVIEW = "cases:review"
PATH = "/cross-province-matches"
NAV = [(PATH, "wb-matches", STAFF["nav_matches"])]
FINDINGS = ("same_person", "different_people")
STATES = {"open": "false", "settled": "true", "all": ""}


async def _list(request: Request, staff: Staff, *, form: Form | None = None, status_code: int = 200) -> Response:
    state = request.query_params.get("state", "open")
    state = state if state in STATES else "open"
    paging = Paging.of(request)
    params = {"offset": paging.offset, "limit": paging.size}
    if STATES[state]:
        params["settled"] = STATES[state]
    answer = await registry_api.call(request, staff, "GET", PATH, params=params)
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/cross_province_matches.html", staff=staff, current="wb-matches",
                  status_code=status_code if answer.ok else answer.page_status,
                  rows=answer.body["data"] if answer.ok else [], total=total, paging=paging.of_total(total),
                  state=state, states=[(name, STAFF[f"matches_state_{name}"]) for name in STATES],
                  findings=[(value, STAFF[f"matches_finding_{value}"]) for value in FINDINGS],
                  province_name=province_name, when=shown_time, form=form or Form(),
                  done=request.query_params.get("done"), extra_nav=NAV)


@staff_page(REVIEW)
async def match_list(request: Request, staff: Staff) -> Response:
    return await _list(request, staff)


@staff_page(REVIEW)
async def settle(request: Request, staff: Staff) -> Response:
    raw = request.path_params["match_id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", f"{PATH}/{raw}/finding",
                                     json={"finding": form.get("finding"), "note": forms.optional(form.get("note"))})
    if not answer.ok:  # the row's fields are named after it, so the summary links to them
        shown = Form({f"{name}-{raw}": form.get(name) for name in ("finding", "note")})
        shown.take(answer, fields={name: f"{name}-{raw}" for name in ("finding", "note")})
        return await _list(request, staff, form=shown, status_code=answer.page_status)
    return RedirectResponse(workbench_path(request, f"{PATH}?state=settled&done={answer.body['finding']}"), 303)
