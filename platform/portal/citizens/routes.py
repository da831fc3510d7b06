"""我的办事's routes, under /my of the site; each online service adds its citizen pages here (and to home.SERVICES)."""
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from portal.citizens import approvals, bookings, complaints, home, memorials, ratings, signin
from portal.citizens.session import my_path


async def _with_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(my_path(request), status_code=308)


def routes() -> list[Route]:
    return [Route("/my" + route.path, route.endpoint, methods=route.methods) for route in _pages()] + [
        Route("/my", _with_slash, methods=["GET"])]


def _pages() -> list[Route]:
    return [
        Route("/", home.home, methods=["GET"]),
        Route("/sign-in", signin.sign_in_page, methods=["GET"]),
        Route("/sign-in", signin.sign_in_development, methods=["POST"]),
        Route("/sign-in/start", signin.start_oidc, methods=["GET"]),
        Route("/callback", signin.callback, methods=["GET"]),
        Route("/sign-out", signin.sign_out, methods=["POST"]),
        # 网上预约: the citizen's own bookings and a farewell hall's remote farewell
        Route("/bookings", bookings.list_bookings, methods=["GET"]),
        Route("/bookings/new", bookings.new_page, methods=["GET"]),
        Route("/bookings/new", bookings.book, methods=["POST"]),
        Route("/bookings/{booking_id:uuid}/change", bookings.change_page, methods=["GET"]),
        Route("/bookings/{booking_id:uuid}/change", bookings.change, methods=["POST"]),
        Route("/bookings/{booking_id:uuid}/cancel", bookings.cancel, methods=["POST"]),
        Route("/bookings/{booking_id:uuid}/farewell", bookings.farewell_page, methods=["GET"]),
        Route("/bookings/{booking_id:uuid}/farewell", bookings.set_farewell, methods=["POST"]),
        Route("/bookings/{booking_id:uuid}/pay", bookings.pay, methods=["POST"]),  # 网上缴费
        # 网上审批 and 投诉: the citizen's own applications and complaints
        Route("/approvals", approvals.approval_list, methods=["GET"]),
        Route("/approvals/new", approvals.new_approval, methods=["GET"]),
        Route("/approvals/new", approvals.submit_approval, methods=["POST"]),
        Route("/approvals/{approval_id}", approvals.approval_page, methods=["GET"]),
        Route("/approvals/{approval_id}/attachments", approvals.upload, methods=["POST"]),
        Route("/approvals/{approval_id}/attachments/{attachment_id}", approvals.attachment, methods=["GET"]),
        Route("/complaints", complaints.complaint_list, methods=["GET"]),
        Route("/complaints/new", complaints.new_complaint, methods=["GET"]),
        Route("/complaints/new", complaints.submit_complaint, methods=["POST"]),
        Route("/complaints/{complaint_id}", complaints.complaint_page, methods=["GET"]),
        Route("/complaints/{complaint_id}/feedback", complaints.feedback, methods=["POST"]),
        # 满意度评价 of a completed booking, and 网上祭扫: the family's own memorial pages
        Route("/bookings/{booking_id:uuid}/rating", ratings.rating_page, methods=["GET"]),
        Route("/bookings/{booking_id:uuid}/rating", ratings.rate, methods=["POST"]),
        Route("/memorials", memorials.memorial_list, methods=["GET"]),
        Route("/memorials/new", memorials.new_memorial, methods=["GET"]),
        Route("/memorials/new", memorials.create_memorial, methods=["POST"]),
        Route("/memorials/{memorial_id}", memorials.memorial_page, methods=["GET"]),
        Route("/memorials/{memorial_id}/remove", memorials.remove_memorial, methods=["POST"]),
        Route("/memorials/{memorial_id}/messages/{message_id}/remove", memorials.remove_message, methods=["POST"]),
    ]
