"""What a browser gets at a path the tenant's site does not have: the portal's 404 page in Chinese, not JSON.

Every registry URL (and anything under /api/v1) keeps answering as the registry does, in its one error shape;
so does a client that does not ask for HTML.
"""
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

API_PREFIX = "/api/v1"
_READS = frozenset({"GET", "HEAD"})


def path_in_site(scope) -> str:
    """The request's path inside the tenant's site: without the `/<slug>` it is mounted under (`fsp serve`)."""
    root, path = scope.get("root_path", ""), scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


def wants_html(request: Request) -> bool:
    """A browser asks for HTML; an API client (or one that also names JSON) gets JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


class NotFoundPage:
    """ASGI wrapper of the registry app: a browser's GET of a path none of `routes` knows gets `not_found`."""

    def __init__(self, app, *, routes: list[BaseRoute], not_found: Callable[[Request], Response]):
        self.app, self.routes, self.not_found = app, routes, not_found

    def _is_registry_url(self, scope) -> bool:
        path = path_in_site(scope)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return True
        # a route that matches but for its method (405) is still the registry's
        return any(route.matches(scope)[0] != Match.NONE for route in self.routes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in _READS and not self._is_registry_url(scope):
            request = Request(scope, receive)
            if wants_html(request):
                page = self.not_found(request)
                page.headers["Vary"] = "Accept"  # the same URL answers JSON to an API client
                await page(scope, receive, send)
                return
        await self.app(scope, receive, send)
