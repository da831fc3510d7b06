"""办件查询 on the portal: anyone types the query code they were given and sees where their item stands.

The code is posted, never put in the address (it would stay in the browser's history and in proxies' logs); the
lookup is the registry's own (registry.online_status: the same limit per client, the same counts)."""
from dataclasses import dataclass, field

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from portal import catalog
from portal.directory import FieldError
from portal.pages import counted
from portal.render import Page, page
from registry import online_status
from registry.online_status import Lookup, Outcome

MAX_CODE_LENGTH = 64
# the page's status for each outcome: a wrong code is an answer (200), not a broken page
STATUSES = {Outcome.found: 200, Outcome.not_found: 200, Outcome.malformed: 400, Outcome.limited: 429}
# no-store: a status page for one person's code is kept by no browser or proxy
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


@dataclass
class LookupForm:
    code: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def error_for(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)


def _refuse(form: LookupForm, rule: str, **params) -> None:
    form.errors.append(FieldError("code", rule, catalog.ERRORS[("code", rule)].format(**params)))


def _look_up(request: Request, form: LookupForm) -> Lookup | None:
    if not form.code:
        _refuse(form, "missing")
        return None
    if len(form.code) > MAX_CODE_LENGTH:
        _refuse(form, "max_length", max_length=MAX_CODE_LENGTH)
        return None
    ctx = request.app.state.ctx
    with Session(ctx.engine) as session:
        found = online_status.look_up(session, ctx=ctx, client=request.client.host if request.client else "unknown",
                                      code=form.code)
    if found.outcome == Outcome.malformed:
        _refuse(form, "query_code_format")
    return found


def _render(request: Request, form: LookupForm, found: Lookup | None) -> Page:
    status = STATUSES[found.outcome] if found else (400 if form.errors else 200)
    result = found.status if found and found.outcome == Outcome.found else None
    response = page(request, "status_lookup.html", status_code=status, province=request.app.state.province,
                    form=form, outcome=found.outcome.value if found else None, result=result,
                    kind_name=catalog.QUERY_KIND_NAMES.get(result.kind, result.kind) if result else "",
                    status_name=catalog.QUERY_STATUS_NAMES.get(result.status, result.status) if result else "")
    response.headers.update(HEADERS)
    return counted(request, response)


async def status_lookup(request: Request) -> Response:
    """GET: the form; POST: the answer beside the form (works without JavaScript)."""
    if request.method == "GET":
        return _render(request, LookupForm(), None)
    posted = await request.form()
    typed = posted.get("code")
    form = LookupForm(code=typed.strip() if isinstance(typed, str) else "")
    found = await anyio.to_thread.run_sync(_look_up, request, form)
    return _render(request, form, found)
