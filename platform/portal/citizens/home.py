"""我的办事: the signed-in citizen's first page, with the online services they can use."""
from starlette.requests import Request
from starlette.responses import Response

from portal import catalog
from portal.citizens.session import Citizen
from portal.citizens.views import citizen_page, render

# (path under /my, title key, hint key) of each online service's citizen pages: the one list the services fill in
SERVICES: list[tuple[str, str, str]] = [
    ("/bookings", "mybk_title", "mybk_hint"),
    ("/approvals", "my_approvals_title", "my_approvals_hint"),
    ("/complaints", "my_complaints_title", "my_complaints_hint"),
    ("/memorials", "mymm_title", "mymm_hint"),
]


@citizen_page
async def home(request: Request, citizen: Citizen) -> Response:
    services = [(path, catalog.TEXT[title], catalog.TEXT[hint]) for path, title, hint in SERVICES]
    return render(request, "my/home.html", citizen=citizen, services=services)
