"""Finding cases: the registry's case list, filtered and paged, as a page every case reader can use."""
from starlette.requests import Request
from starlette.responses import Response

from portal.workbench import registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff
from portal.workbench.text import CASE_STATUS
from portal.workbench.views import render, staff_page

FILTERS = ("status", "deceased_name", "died_from", "died_to")


@staff_page("cases:read")
async def case_list(request: Request, staff: Staff) -> Response:
    """Filters are the API's own: a filter it refuses is shown beside its field, with what was typed kept."""
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/cases",
                                     params={**query.values, "offset": paging.offset, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    rows = answer.body["data"] if answer.ok else []
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/cases.html", staff=staff, current="wb-cases",
                  status_code=answer.page_status, form=query, cases=rows, total=total,
                  paging=paging.of_total(total), statuses=list(CASE_STATUS.items()))
