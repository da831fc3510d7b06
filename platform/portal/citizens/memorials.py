"""我的办事 · 网上祭扫: the family's own memorial pages (list, create with consent, remove) and the removal of a
message on one. The registry's memorials API does every check and write; an invitation code is in the answer
that created it only, so it is shown on that POST's own page and never again."""
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.citizens.approvals import item_id, not_found
from portal.citizens.session import Citizen, my_path
from portal.citizens.views import citizen_page, message, render
from portal.workbench import forms, registry_api
from portal.workbench.case_page import shown_time
from portal.workbench.forms import Form
from registry.memorials.models import MemorialRelation, MemorialVisibility

FIELDS = ("deceased_name", "birth_date", "death_date", "biography", "consented_by", "relation")
RELATIONS = {r.value: catalog.TEXT[f"mymm_relation_{r.value}"] for r in MemorialRelation}
VISIBILITIES = {v.value: catalog.TEXT[f"mymm_visibility_{v.value}"] for v in MemorialVisibility}
DONE = {"removed": "mymm_removed", "message_removed": "mymm_message_removed"}


def _notice(request: Request) -> str | None:
    key = DONE.get(request.query_params.get("done", ""))
    return catalog.TEXT[key] if key else None


@citizen_page
async def memorial_list(request: Request, citizen: Citizen) -> Response:
    answer = await registry_api.call(request, citizen, "GET", "/my/memorials")
    return render(request, "my/memorials.html", citizen=citizen, status_code=answer.page_status,
                  memorials=answer.body if answer.ok else [], failed=not answer.ok, visibilities=VISIBILITIES,
                  notice=_notice(request), when=shown_time)


def _form_page(request: Request, citizen: Citizen, form: Form, *, status_code: int = 200) -> Response:
    return render(request, "my/memorial_new.html", citizen=citizen, status_code=status_code, form=form,
                  relation_options=list(RELATIONS.items()), visibilities=list(VISIBILITIES.items()))


@citizen_page
async def new_memorial(request: Request, citizen: Citizen) -> Response:
    return _form_page(request, citizen, Form({"visibility": MemorialVisibility.public.value}))


@citizen_page
async def create_memorial(request: Request, citizen: Citizen) -> Response:
    """Created: the invitation code (invitation-only pages) is on this answer only; refused: the form as typed."""
    form = await forms.read(request, citizen)
    body = {name: forms.optional(form.get(name)) for name in FIELDS}
    body.update(visibility=form.get("visibility") or None, consent=form.get("consent") == "yes")
    answer = await registry_api.call(request, citizen, "POST", "/my/memorials", json=body)
    if not answer.ok:
        form.values.setdefault("consent", "")  # an unticked box is not posted: the summary still links to it
        form.take(answer, fields={"body": "birth_date"})  # the model's date order is of the two dates
        return _form_page(request, citizen, form, status_code=answer.page_status)
    return render(request, "my/memorial_created.html", citizen=citizen, status_code=201, memorial=answer.body,
                  visibilities=VISIBILITIES)


async def _load(request: Request, citizen: Citizen) -> dict | None:
    memorial_id = item_id(request, "memorial_id")
    if memorial_id is None:
        return None
    answer = await registry_api.call(request, citizen, "GET", f"/my/memorials/{memorial_id}")
    return answer.body if answer.ok else None


@citizen_page
async def memorial_page(request: Request, citizen: Citizen) -> Response:
    """The family's own page: its facts, the messages still up (each removable), and the removal of the page."""
    page = await _load(request, citizen)
    if page is None:
        return not_found(request, citizen)
    return render(request, "my/memorial.html", citizen=citizen, memorial=page["memorial"], messages=page["messages"],
                  visibilities=VISIBILITIES, relations=RELATIONS, offerings=catalog.OFFERING_NAMES, when=shown_time,
                  notice=_notice(request))


async def _act(request: Request, citizen: Citizen, path: str, done: str, back: str) -> Response:
    await forms.read(request, citizen)
    answer = await registry_api.call(request, citizen, "POST", path)
    if answer.status == 404:
        return not_found(request, citizen)
    if not answer.ok:
        text = "；".join(p.get("message", "") for p in answer.problems) or catalog.TEXT["my_load_failed"]
        return message(request, citizen, heading=catalog.TEXT["mymm_refused"], text=text,
                       status_code=answer.page_status, link=(my_path(request, "/memorials"), catalog.TEXT["mymm_title"]))
    return RedirectResponse(my_path(request, f"{back}?done={done}"), status_code=303)


@citizen_page
async def remove_memorial(request: Request, citizen: Citizen) -> Response:
    memorial_id = item_id(request, "memorial_id")
    if memorial_id is None:
        return not_found(request, citizen)
    return await _act(request, citizen, f"/my/memorials/{memorial_id}/remove", "removed", "/memorials")


@citizen_page
async def remove_message(request: Request, citizen: Citizen) -> Response:
    memorial_id, message_id = item_id(request, "memorial_id"), item_id(request, "message_id")
    if memorial_id is None or message_id is None:
        return not_found(request, citizen)
    return await _act(request, citizen, f"/my/memorials/{memorial_id}/messages/{message_id}/remove", "message_removed",
                      f"/memorials/{memorial_id}")
