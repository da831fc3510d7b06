"""Online memorials (网上祭扫) on the portal: the public pages listed and searched by name, and one memorial with its
messages and an offering form (no JavaScript). At Qingming a page is asked for by many at once, so it is cheap:
the rendered page is kept in the site's PageCache for its few seconds (served without touching the database, as
the other pages are), an ETag from the page's last change answers a conditional GET with 304, and a browser or a
proxy may keep a public page a few seconds. A visitor who leaves a message is sent to the page with a notice (a
URL of its own, rendered afresh), so they see what they left at once; others within the cache's seconds.
Invitation-only pages need their code (part of the cache key: a page is only ever kept for the right code) and are
never stored by anyone but the visitor's browser."""
import uuid
from dataclasses import dataclass, field

import anyio
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.directory import FieldError, SearchQuery, check_page, check_words
from portal.pages import counted, not_found, province_of, tenant_engine
from portal.render import Page, base_path, page
from registry import __version__, errors, messages
from registry.errors import Gone, NotFound
from registry.memorials import service
from registry.memorials.models import Memorial, MemorialOffering, MemorialVisibility, MessageCreate

PAGE_SIZE = 20
# a public page may be reused this long without asking: a new message shows to others within it
PUBLIC_MAX_AGE = 15
FORM_FIELDS = ("author_name", "text", "offering")


def memorial_list(request: Request) -> Page:
    """Public memorials, newest first, searched by the deceased's name, 20 a page."""
    params = request.query_params
    query = SearchQuery(q=params.get("q", "").strip(), page_text=params.get("page", "").strip())
    check_words(query, form="memorials")
    check_page(query, form="memorials")
    rows, total = [], 0
    if not query.errors:
        with Session(tenant_engine(request)) as session:
            rows, total = service.list_public(session, q=query.q or None, offset=(query.page - 1) * PAGE_SIZE,
                                              limit=PAGE_SIZE)
    return page(request, "memorials.html", status_code=400 if query.errors else 200, province=province_of(request),
                query=query, memorials=rows, total=total, has_next=not query.errors and query.page * PAGE_SIZE < total)


@dataclass
class MessageForm:
    """What a visitor typed, kept to show it again, and what is wrong with it."""
    values: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def error_for(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)


def _etag(memorial: Memorial) -> str:
    return f'"{memorial.id.hex}-{int(memorial.updated_at.timestamp() * 1_000_000)}-{__version__}"'


def _cache_headers(memorial: Memorial, etag: str) -> dict[str, str]:
    if memorial.visibility == MemorialVisibility.public:
        return {"ETag": etag, "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"}
    # the code is in the address: kept by the visitor's browser only, and never sent on as a referrer
    return {"ETag": etag, "Cache-Control": "private, no-cache", "Referrer-Policy": "no-referrer"}


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _memorial_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["memorial_id"])
    except ValueError:
        return None


def _gone(request: Request) -> Page:
    return page(request, "memorial_gone.html", status_code=410, province=province_of(request))


def _render(request: Request, session: Session, memorial: Memorial, *, code: str | None, form: MessageForm,
            status_code: int = 200) -> Page:
    shown = service.page_of(session, memorial)
    return page(request, "memorial.html", status_code=status_code, province=province_of(request), shown=shown,
                memorial=shown.memorial, code=code or "", form=form, offerings=list(MemorialOffering),
                offering_names=catalog.OFFERING_NAMES, posted=request.query_params.get("posted", ""))


def memorial(request: Request) -> Response:
    """One memorial; 304 when the visitor's copy is current; 404 without the code of an invitation-only page."""
    memorial_id = _memorial_id(request)
    if memorial_id is None:
        return not_found(request)
    code = request.query_params.get("code") or None
    ctx = request.app.state.ctx
    with Session(tenant_engine(request)) as session:
        try:
            found = service.visible(session, ctx=ctx, memorial_id=memorial_id, code=code, client=_client(request))
        except NotFound:
            return not_found(request)
        except Gone:
            return _gone(request)
        etag = _etag(found)
        headers = _cache_headers(found, etag)
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        rendered = _render(request, session, found, code=code, form=MessageForm())
    rendered.headers.update(headers)
    rendered.cache_headers = headers
    return rendered


def _cache_key(request: Request) -> tuple:
    return ("memorial", base_path(request), request.url.path, request.url.query)


async def memorial_endpoint(request: Request) -> Response:
    """From the PageCache when it holds the page (no database, no thread), else read and rendered off the loop."""
    cache = request.app.state.pages
    kept = cache.get(_cache_key(request))
    if kept is not None:
        headers = kept.cache_headers
        if _matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        shown = Page(kept.body, name=kept.name)
        shown.headers.update(headers)
        return counted(request, shown)
    generation = cache.generation
    response = await anyio.to_thread.run_sync(memorial, request)
    if isinstance(response, Page) and response.status_code == 200:
        cache.put(_cache_key(request), response, generation=generation)
    return counted(request, response) if isinstance(response, Page) else response


def _read(values: dict[str, str]) -> tuple[MessageCreate | None, MessageForm]:
    form = MessageForm({name: values.get(name, "").strip() for name in FORM_FIELDS})
    try:
        return MessageCreate.model_validate({name: value for name, value in form.values.items() if value}), form
    except ValidationError as exc:
        for error in exc.errors():
            problem = errors.localize(errors.problem_from_pydantic(error), messages.ZH)
            name = problem["field"] if problem["field"] in FORM_FIELDS else "text"
            form.errors.append(FieldError(name, problem["rule"], problem["message"]))
        return None, form


def leave_message(request: Request, values: dict[str, str]) -> Response:
    """A message or an offering: published or held for review, then back to the page (303) saying which."""
    memorial_id = _memorial_id(request)
    if memorial_id is None:
        return not_found(request)
    code = values.get("code") or None
    data, form = _read(values)
    ctx = request.app.state.ctx
    with Session(tenant_engine(request)) as session:
        try:
            if data is None:
                found = service.visible(session, ctx=ctx, memorial_id=memorial_id, code=code, client=_client(request))
                return _render(request, session, found, code=code, form=form, status_code=400)
            message = service.post_message(session, ctx=ctx, memorial_id=memorial_id, code=code,
                                           client=_client(request), data=data)
        except NotFound:
            return not_found(request)
        except Gone:
            return _gone(request)
        except service.TooManyMessages:
            session.rollback()
            found = service.visible(session, ctx=ctx, memorial_id=memorial_id, code=code, client=_client(request))
            form.errors.append(FieldError("text", "too_many_messages", catalog.TEXT["memorial_too_many"]))
            return _render(request, session, found, code=code, form=form, status_code=429)
    query = QueryParams({name: value for name, value in (("posted", message.status.value), ("code", code)) if value})
    return RedirectResponse(f"{base_path(request)}/memorials/{memorial_id}?{query}#messages", status_code=303)


async def leave_message_endpoint(request: Request) -> Response:
    posted = await request.form()
    values = {key: str(value) for key, value in posted.items() if isinstance(value, str)}
    response = await anyio.to_thread.run_sync(leave_message, request, values)
    if response.status_code == 303:  # this process's copies of the page go; other replicas' within their seconds
        page_path = request.url.path.removesuffix("/messages")
        request.app.state.pages.forget_where(lambda key: key[0] == "memorial" and key[2] == page_path)
    return counted(request, response) if isinstance(response, Page) else response
