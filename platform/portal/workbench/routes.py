"""The workbench's routes, under /workbench of the site. Each domain's pages add theirs here.

Routes of the site itself, not a Mount: a Mount would move the site's root path, and every link with it."""
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from portal.workbench import cases, fees_admin, home, institutions_admin, signin
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
        # institutions, their fees and disclosure (provincial admin)
        Route("/institutions", institutions_admin.institution_list, methods=["GET"]),
        Route("/institutions/new", institutions_admin.new_institution, methods=["GET"]),
        Route("/institutions/new", institutions_admin.create_institution, methods=["POST"]),
        Route("/institutions/{institution_id}", institutions_admin.institution_page, methods=["GET"]),
        Route("/institutions/{institution_id}/edit", institutions_admin.edit_institution, methods=["GET"]),
        Route("/institutions/{institution_id}/edit", institutions_admin.update_institution, methods=["POST"]),
        Route("/institutions/{institution_id}/fees", fees_admin.publish_fee, methods=["POST"]),
        Route("/institutions/{institution_id}/fees/end", fees_admin.end_fee, methods=["POST"]),
        Route("/institutions/{institution_id}/disclosure", fees_admin.set_disclosure, methods=["POST"]),
    ]
