"""The review queue of memorial messages held by the word filter: approve (publish) or reject each, through the
registry's API (audited there)."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.views import not_found, render, staff_page

MODERATE = "memorials:moderate"


async def _queue(request: Request, staff: Staff, *, form: Form, status_code: int = 200) -> Response:
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/memorial-messages/review",
                                     params={"offset": paging.offset, "limit": paging.size})
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/memorial_review.html", staff=staff, current="wb-memorial-review",
                  status_code=status_code if answer.ok else answer.page_status, form=form,
                  rows=answer.body["data"] if answer.ok else [], total=total, paging=paging.of_total(total),
                  done=request.query_params.get("done"))


@staff_page(MODERATE)
async def review_queue(request: Request, staff: Staff) -> Response:
    return await _queue(request, staff, form=Form())


@staff_page(MODERATE)
async def review(request: Request, staff: Staff) -> Response:
    try:
        message_id = uuid.UUID(request.path_params["message_id"])
    except ValueError:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", f"/memorial-messages/{message_id}/review",
                                     json={"decision": form.get("decision")})
    if not answer.ok:
        form.take(answer)
        return await _queue(request, staff, form=form, status_code=answer.page_status)
    return RedirectResponse(workbench_path(request, f"/memorial-messages?done={answer.body['status']}"), 303)
