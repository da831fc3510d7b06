"""The review queue of memorial messages and rating comments held by the word filter: approve (publish) or reject
each, through the registry's API (audited there)."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.views import not_found, render, staff_page

MODERATE = "memorials:moderate"
HELD_RATINGS_SHOWN = 100  # the API's largest page: held comments are few, the oldest waiting shown first beyond it


async def _held_ratings(request: Request, staff: Staff) -> tuple[list[dict], int]:
    """Rating comments held for review (the same moderators decide them), oldest first so none waits forever."""
    if not staff.can("ratings:read"):
        return [], 0
    answer = await registry_api.call(request, staff, "GET", "/ratings", params={"held": "true", "limit": HELD_RATINGS_SHOWN})
    if not answer.ok:
        return [], 0
    return list(reversed(answer.body["data"])), answer.body["count"]


async def _queue(request: Request, staff: Staff, *, form: Form, status_code: int = 200) -> Response:
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/memorial-messages/review",
                                     params={"offset": paging.offset, "limit": paging.size})
    total = answer.body["count"] if answer.ok else 0
    ratings, ratings_total = await _held_ratings(request, staff)
    return render(request, "workbench/memorial_review.html", staff=staff, current="wb-memorial-review",
                  status_code=status_code if answer.ok else answer.page_status, form=form,
                  rows=answer.body["data"] if answer.ok else [], total=total, paging=paging.of_total(total),
                  ratings=ratings, ratings_total=ratings_total, done=request.query_params.get("done"))


@staff_page(MODERATE)
async def review_queue(request: Request, staff: Staff) -> Response:
    return await _queue(request, staff, form=Form())


async def _decide(request: Request, staff: Staff, *, id_param: str, api_path: str, status_field: str,
                  done_prefix: str = "") -> Response:
    """One decision posted to the registry's review route; back to the queue with what became of the text."""
    try:
        object_id = uuid.UUID(request.path_params[id_param])
    except ValueError:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", api_path.format(id=object_id),
                                     json={"decision": form.get("decision")})
    if not answer.ok:
        form.take(answer)
        return await _queue(request, staff, form=form, status_code=answer.page_status)
    done = f"{done_prefix}{answer.body[status_field]}"
    return RedirectResponse(workbench_path(request, f"/memorial-messages?done={done}"), 303)


@staff_page(MODERATE)
async def review(request: Request, staff: Staff) -> Response:
    return await _decide(request, staff, id_param="message_id", api_path="/memorial-messages/{id}/review",
                         status_field="status")


@staff_page(MODERATE)
async def review_rating(request: Request, staff: Staff) -> Response:
    return await _decide(request, staff, id_param="rating_id", api_path="/ratings/{id}/review",
                         status_field="comment_status", done_prefix="rating_")
