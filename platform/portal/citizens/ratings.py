"""我的办事 · 满意度评价: the rating of one's own completed booking (1 to 5 and a comment), once. The registry decides
what is completed, who may rate and whether it was rated already; these pages ask it and show its answers."""
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.citizens.session import Citizen, my_path
from portal.citizens.views import citizen_page, message, render
from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time as when
from portal.workbench.forms import Form
from registry.ratings.models import MAX_COMMENT, SCORES

SCORE_NAMES = {score: catalog.TEXT[f"myrt_score_{score}"] for score in SCORES}


def completed(booking: dict, now: datetime | None = None) -> bool:
    """What the registry rates: a booking confirmed by the institution whose time has ended (shown as a hint only)."""
    return booking["status"] == "confirmed" and datetime.fromisoformat(booking["ends_at"]) <= (now or datetime.now(UTC))


async def ratings_by_booking(request: Request, citizen: Citizen) -> dict[str, dict]:
    """The citizen's ratings, by the booking rated."""
    answer = await registry_api.call(request, citizen, "GET", "/my/ratings")
    return {row["booking_id"]: row for row in answer.body["data"]} if answer.ok else {}


def _not_found(request: Request, citizen: Citizen) -> Response:
    return message(request, citizen, heading=catalog.TEXT["mybk_not_found_title"], text=catalog.TEXT["mybk_not_found"],
                   status_code=404, link=(my_path(request, "/bookings"), catalog.TEXT["mybk_back"]))


async def _page(request: Request, citizen: Citizen, booking: dict, form: Form, *, status_code: int = 200) -> Response:
    rating = (await ratings_by_booking(request, citizen)).get(booking["id"])
    return render(request, "my/rating.html", citizen=citizen, status_code=status_code, booking=booking, form=form,
                  rating=rating, completed=completed(booking), scores=list(SCORE_NAMES.items()), when=when,
                  kind=catalog.TEXT.get(f"mybk_kind_{booking['resource_kind']}", booking["resource_kind"]),
                  max_comment=MAX_COMMENT, thanked=request.query_params.get("done") == "1")


async def _own(request: Request, citizen: Citizen) -> dict | None:
    answer = await registry_api.call(request, citizen, "GET", f"/my/bookings/{request.path_params['booking_id']}")
    return answer.body if answer.ok else None


@citizen_page
async def rating_page(request: Request, citizen: Citizen) -> Response:
    """The form, or the rating given; a booking not yet completed says when it can be rated."""
    booking = await _own(request, citizen)
    return await _page(request, citizen, booking, Form()) if booking else _not_found(request, citizen)


@citizen_page
async def rate(request: Request, citizen: Citizen) -> Response:
    form = await forms.read(request, citizen)
    booking = await _own(request, citizen)
    if booking is None:
        return _not_found(request, citizen)
    if form.get("score") not in {str(score) for score in SCORES}:
        form.values["score"] = ""  # the summary links to the first score
        form.refuse("score", catalog.TEXT["myrt_score_missing"])
        return await _page(request, citizen, booking, form, status_code=400)
    answer = await registry_api.call(request, citizen, "POST", f"/my/bookings/{booking['id']}/rating",
                                     json={"score": int(form.get("score")), "comment": forms.optional(form.get("comment"))})
    if not answer.ok:
        form.values.setdefault("score", "")
        form.take(answer, fields={"booking_id": "score"})
        return await _page(request, citizen, booking, form, status_code=answer.page_status)
    return RedirectResponse(my_path(request, f"/bookings/{booking['id']}/rating?done=1"), status_code=303)
