"""The workbench's routes, under /workbench of the site. Each domain's pages add theirs here.

Routes of the site itself, not a Mount: a Mount would move the site's root path, and every link with it."""
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from portal.workbench import case_page, cases, correction, declaration, home, signin
from portal.workbench.staff import workbench_path


async def _with_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(workbench_path(request), status_code=308)


def routes() -> list[Route]:
    return [Route("/workbench" + route.path, route.endpoint, methods=route.methods) for route in _pages()] + [
        Route("/workbench", _with_slash, methods=["GET"])]


def _pages() -> list[Route]:
    return [
        Route("/", home.home, methods=["GET"]),
        Route("/sign-in", signin.sign_in_page, methods=["GET"]),
        Route("/sign-in", signin.sign_in_development, methods=["POST"]),
        Route("/sign-in/start", signin.start_oidc, methods=["GET"]),
        Route("/callback", signin.callback, methods=["GET"]),
        Route("/sign-out", signin.sign_out, methods=["POST"]),
        Route("/cases", cases.case_list, methods=["GET"]),
        *_case_work(),
    ]


def _case_work() -> list[Route]:
    """The registrar's and reviewer's case work: the declaration, the case page, its corrections and actions."""
    return [
        Route("/cases/new", declaration.declaration_form, methods=["GET"]),
        Route("/cases/new", declaration.declare, methods=["POST"]),
        Route("/cases/{case_id}", case_page.case_page, methods=["GET"]),
        Route("/cases/{case_id}/correct", correction.correction_form, methods=["GET"]),
        Route("/cases/{case_id}/correct", correction.correct, methods=["POST"]),
        Route("/cases/{case_id}/id-number", case_page.disclose_id_number, methods=["POST"]),
        *(Route(f"/cases/{{case_id}}/{name}", case_page.action_endpoint(action), methods=["POST"])
          for name, action in case_page.ACTIONS.items()),
    ]
