"""Satisfaction ratings (满意度评价) in the workbench: the figures per institution (count, mean, how many of each
score) and the ratings, newest first. A registrar sees its own institution's, the province all; the registry's
ratings API decides that, these pages only show its answers."""
from starlette.requests import Request
from starlette.responses import Response

from portal.workbench import registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff
from portal.workbench.text import STAFF
from portal.workbench.views import render, staff_page

READ = "ratings:read"
FILTERS = ("institution_id", "held")
NAV = [("/ratings", "wb-ratings", STAFF["nav_ratings"])]
KINDS = ("farewell_hall", "cremation_slot", "vehicle")


@staff_page(READ)
async def rating_list(request: Request, staff: Staff) -> Response:
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    paging = Paging.of(request)
    params = {name: value for name, value in query.values.items() if value}
    answer = await registry_api.call(request, staff, "GET", "/ratings",
                                     params={**params, "offset": paging.offset, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    summary = await registry_api.call(request, staff, "GET", "/ratings/summary")
    institutions = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 500})
    names = {row["id"]: row["name"] for row in institutions.body["data"]} if institutions.ok else {}
    total = answer.body["count"] if answer.ok else 0
    figures = summary.body["data"] if summary.ok else []
    return render(request, "workbench/ratings.html", staff=staff, current="wb-ratings", status_code=answer.page_status,
                  form=query, rows=answer.body["data"] if answer.ok else [], total=total,
                  paging=paging.of_total(total), figures=figures, institution_names=names,
                  institutions=sorted(((f["institution_id"], names.get(f["institution_id"], "")) for f in figures),
                                      key=lambda item: item[1]),
                  held_options=[("true", STAFF["ratings_held_yes"]), ("false", STAFF["ratings_held_no"])],
                  kind_names={kind: STAFF[f"ratings_kind_{kind}"] for kind in KINDS}, when=shown_time, extra_nav=NAV)
