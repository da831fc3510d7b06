"""While the tenant is suspended (`fsp suspend`), its site refuses sign-ins and every change made through its
pages with a page saying so (503, audited); reading pages, looking up a query code and signing out go on.
The registry's own API refuses its writes itself (registry.tenant_status)."""
import anyio
from starlette.requests import Request

from portal.fallback import API_PREFIX, path_in_site
from portal.pages import province_of
from portal.render import page
from registry.limits import refused_action
from registry.tenant_status import RETRY_AFTER_SECONDS

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# posts that change nothing, or that a person must always be able to do
_ALLOWED_POSTS = ("/services/status",)
_ALLOWED_SUFFIXES = ("/sign-out",)
# reads that sign someone in: off to the realm, and back from it
_SIGN_IN_READS = ("/sign-in/start", "/callback")


class RefuseSignInsWhileSuspended:
    """ASGI middleware of a tenant's site (portal.site)."""

    def __init__(self, app, *, ctx):
        self.app, self.ctx = app, ctx

    def _refused(self, scope) -> bool:
        path = path_in_site(scope)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return False  # the registry answers in its own error shape
        if scope["method"] in _READS:
            return path.endswith(_SIGN_IN_READS)
        return path not in _ALLOWED_POSTS and not path.endswith(_ALLOWED_SUFFIXES)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self._refused(scope) or not (await self.ctx.status.current_async()).suspended:
            await self.app(scope, receive, send)
            return
        problems = [{"field": "tenant", "rule": "tenant_suspended", "message": "the platform is suspended"}]
        await anyio.to_thread.run_sync(lambda: self.ctx.journal.refused(
            actor="anonymous", action=refused_action(scope), status=503, problems=problems))
        request = Request(scope, receive)
        response = page(request, "suspended.html", status_code=503, province=province_of(request))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        await response(scope, receive, send)
