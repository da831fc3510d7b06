"""The workbench's routes, under /workbench of the site. Each domain's pages add theirs here.

Routes of the site itself, not a Mount: a Mount would move the site's root path, and every link with it."""
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from portal.workbench import audit, cases, home, imports, signin
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
        # the auditor's pages and the provincial admin's backfill imports
        Route("/audit", audit.audit_log, methods=["GET"]),
        Route("/audit/verify", audit.verify_page, methods=["GET"]),
        Route("/audit/verify", audit.verify_run, methods=["POST"]),
        Route("/imports", imports.imports_page, methods=["GET"]),
        Route("/imports", imports.imports_run, methods=["POST"]),
        Route("/imports/report.csv", imports.report_csv, methods=["POST"]),
    ]
