"""The provincial admin's policies, guides and notices (政务公开): drafts, publishing, editing and withdrawal, all
through the registry's publications API."""
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import Paging
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, render, staff_page
from registry import messages

WRITE = "publications:write"
FIELDS = ("category", "title", "document_number", "issuing_authority", "summary", "content", "effective_date")
REQUIRED = ("category", "title", "issuing_authority", "content", "effective_date")
STATUSES = ("draft", "published", "withdrawn")


def _categories() -> list[tuple[str, str]]:
    return [(category.value, name) for category, name in catalog.PUBLICATION_CATEGORY_NAMES.items()]


def _body(form: Form, *, partial: bool) -> dict:
    """What the API takes; an emptied optional field is cleared, an emptied required one left out to be named."""
    body = {}
    for name in FIELDS:
        value = form.get(name)
        if value or (partial and name in ("document_number", "summary")):
            body[name] = forms.optional(value)
    return body


def _id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["publication_id"])
    except ValueError:
        return None


@staff_page(WRITE)
async def publication_list(request: Request, staff: Staff) -> Response:
    query = Form({name: request.query_params.get(name, "").strip() for name in ("status", "category", "q")})
    paging = Paging.of(request)
    answer = await registry_api.call(request, staff, "GET", "/publications/all",
                                     params={**query.values, "page": paging.page, "limit": paging.size})
    if not answer.ok:
        query.take(answer)
    total = answer.body["count"] if answer.ok else 0
    return render(request, "workbench/publications.html", staff=staff, current="wb-publications",
                  status_code=answer.page_status, form=query, rows=answer.body["data"] if answer.ok else [],
                  total=total, paging=paging.of_total(total), categories=_categories(),
                  statuses=[(status, STAFF[f"pubs_status_{status}"]) for status in STATUSES])


@staff_page(WRITE)
async def new_publication(request: Request, staff: Staff) -> Response:
    if request.method == "GET":
        return render(request, "workbench/publication_form.html", staff=staff, current="wb-publications",
                      form=Form(), categories=_categories(), publication=None)
    form = await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "POST", "/publications", json=_body(form, partial=False))
    if not answer.ok:
        form.take(answer)
        return render(request, "workbench/publication_form.html", staff=staff, current="wb-publications",
                      status_code=answer.page_status, form=form, categories=_categories(), publication=None)
    return RedirectResponse(workbench_path(request, f"/publications/{answer.body['id']}?done=created"), 303)


async def _read(request: Request, staff: Staff, publication_id: uuid.UUID) -> dict | None:
    answer = await registry_api.call(request, staff, "GET", f"/publications/all/{publication_id}")
    return answer.body if answer.ok else None


@staff_page(WRITE)
async def publication_page(request: Request, staff: Staff) -> Response:
    publication_id = _id(request)
    found = await _read(request, staff, publication_id) if publication_id else None
    if found is None:
        return not_found(request, staff)
    return render(request, "workbench/publication.html", staff=staff, current="wb-publications", publication=found,
                  done=request.query_params.get("done"), withdraw=Form())


@staff_page(WRITE)
async def edit_publication(request: Request, staff: Staff) -> Response:
    publication_id = _id(request)
    found = await _read(request, staff, publication_id) if publication_id else None
    if found is None:
        return not_found(request, staff)
    if request.method == "GET":
        form = Form({name: str(found.get(name) or "") for name in FIELDS})
        return render(request, "workbench/publication_form.html", staff=staff, current="wb-publications",
                      form=form, categories=_categories(), publication=found)
    form = await forms.read(request, staff)
    for name in REQUIRED:  # an emptied required field would otherwise mean "unchanged" to the API
        if not form.get(name):
            form.refuse(name, messages.message("missing", name, language=messages.ZH, fallback=name))
    answer = None if form.errors else await registry_api.call(request, staff, "PATCH",
                                                              f"/publications/{publication_id}",
                                                              json=_body(form, partial=True))
    if answer is None or not answer.ok:
        if answer is not None:
            form.take(answer)
        return render(request, "workbench/publication_form.html", staff=staff, current="wb-publications",
                      status_code=answer.page_status if answer else 400, form=form, categories=_categories(),
                      publication=found)
    return RedirectResponse(workbench_path(request, f"/publications/{publication_id}?done=updated"), 303)


async def _act(request: Request, staff: Staff, action: str) -> Response:
    publication_id = _id(request)
    found = await _read(request, staff, publication_id) if publication_id else None
    if found is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    body = {"reason": form.get("reason")} if action == "withdraw" else None
    answer = await registry_api.call(request, staff, "POST", f"/publications/{publication_id}/{action}", json=body)
    if not answer.ok:
        form.take(answer)
        return render(request, "workbench/publication.html", staff=staff, current="wb-publications",
                      status_code=answer.page_status, publication=found, done=None, withdraw=form)
    return RedirectResponse(workbench_path(request, f"/publications/{publication_id}?done={action}"), 303)


@staff_page(WRITE)
async def publish(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "publish")


@staff_page(WRITE)
async def withdraw(request: Request, staff: Staff) -> Response:
    return await _act(request, staff, "withdraw")
