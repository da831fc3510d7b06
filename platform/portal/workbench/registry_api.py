"""The registry's API, called in process with the signed-in person's token, staff's (the workbench) and citizens'
(portal.citizens) alike: pages decide nothing the registry would decide (who may, what is valid), so a page can
never allow what the API refuses."""
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from starlette.requests import Request

from portal.workbench import oidc
from registry.sessions.models import StaffSession


class SignedIn(Protocol):
    """Whoever a page acts for: staff (portal.workbench.staff.Staff) or a citizen (portal.citizens.session.Citizen)."""
    row: StaffSession


@dataclass
class Answer:
    """The registry's answer: its status, its JSON body, and its refusals in the one error shape (in Chinese)."""
    status: int
    body: Any = None
    problems: list[dict] = field(default_factory=list)
    title: str | None = None
    # the answer as sent, for what is not JSON (an attachment's file) and its headers (its file name)
    content: bytes = field(default=b"", repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def page_status(self) -> int:
        """The page's status for this answer: refused input is a 400 page with the form shown again."""
        return 400 if self.status == 422 else self.status


async def call(request: Request, person: SignedIn, method: str, path: str, *, json: Any = None,
               params: dict | None = None, content: bytes | None = None) -> Answer:
    """`path` under /api/v1 of this tenant's registry, e.g. `/cases`. Writes clear the portal's cached pages as
    an API client's would (the site's API app is wrapped for that)."""
    token = await oidc.fresh_access_token(request, person)
    client = request.client
    # the registry audits and rate-limits by client address: the person's, not the workbench's
    transport = httpx.ASGITransport(app=request.app.state.api_app,
                                    client=(client.host, client.port) if client else ("127.0.0.1", 0))
    # a file's bytes (an attachment) go as the body itself: the registry reads its type from its content
    raw = {"content": content, "headers": {"Content-Type": "application/octet-stream"}} if content is not None else {}
    async with httpx.AsyncClient(transport=transport, base_url=f"{request.url.scheme}://{request.url.netloc}") as registry:
        response = await registry.request(
            method, f"/api/v1{path}", json=json, params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            content=raw.get("content"),
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN", "Accept": "application/json",
                     **raw.get("headers", {})})
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if response.status_code < 400:
        return Answer(response.status_code, body, content=response.content, headers=dict(response.headers))
    body = body if isinstance(body, dict) else {}
    return Answer(response.status_code, body, list(body.get("errors", [])), body.get("title"))
