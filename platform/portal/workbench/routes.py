"""The workbench's routes, under /workbench of the site. Each domain's pages add theirs here.

Routes of the site itself, not a Mount: a Mount would move the site's root path, and every link with it."""
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from portal.workbench import (
    approvals,
    audit,
    case_page,
    cases,
    certificate_print,
    complaints,
    correction,
    credit,
    cross_province,
    declaration,
    equipment,
    fees_admin,
    figures,
    home,
    imports,
    institutions_admin,
    memorial_review,
    payments,
    publications_admin,
    ratings,
    remains,
    reservations,
    signin,
)
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
        # the province's own figures (本省殡葬数据), as the ministry counts them
        Route("/figures", figures.figures_page, methods=["GET"]),
        Route("/figures/export/{name}", figures.export, methods=["GET"]),
        # cross-province matches (跨省重复登记核查): the reviewers settle the pairs the ministry found
        Route("/cross-province-matches", cross_province.match_list, methods=["GET"]),
        Route("/cross-province-matches/{match_id}/finding", cross_province.settle, methods=["POST"]),
        # policies, guides and notices (provincial admin)
        Route("/publications", publications_admin.publication_list, methods=["GET"]),
        Route("/publications/new", publications_admin.new_publication, methods=["GET", "POST"]),
        Route("/publications/{publication_id}", publications_admin.publication_page, methods=["GET"]),
        Route("/publications/{publication_id}/edit", publications_admin.edit_publication, methods=["GET", "POST"]),
        Route("/publications/{publication_id}/publish", publications_admin.publish, methods=["POST"]),
        Route("/publications/{publication_id}/withdraw", publications_admin.withdraw, methods=["POST"]),
        # the printable certificate with its signed QR code
        Route("/certificates/{certificate_id}/print", certificate_print.print_certificate, methods=["GET"]),
        # remains and ashes of a case (遗体与骨灰)
        Route("/cases/{case_id}/remains", remains.remains_page, methods=["GET"]),
        Route("/cases/{case_id}/remains/transports", remains.record_transport, methods=["POST"]),
        Route("/cases/{case_id}/remains/storages", remains.record_storage, methods=["POST"]),
        Route("/cases/{case_id}/remains/storages/{storage_id}/release", remains.release_storage, methods=["POST"]),
        Route("/cases/{case_id}/remains/ashes-destination", remains.record_ashes_destination, methods=["POST"]),
        Route("/cases/{case_id}/remains/interments", remains.record_interment, methods=["POST"]),
        # the auditor's pages and the provincial admin's backfill imports
        Route("/audit", audit.audit_log, methods=["GET"]),
        Route("/audit/verify", audit.verify_page, methods=["GET"]),
        Route("/audit/verify", audit.verify_run, methods=["POST"]),
        Route("/imports", imports.imports_page, methods=["GET"]),
        Route("/imports", imports.imports_run, methods=["POST"]),
        Route("/imports/report.csv", imports.report_csv, methods=["POST"]),
        # online approvals (网上审批): the queue, one approval, its steps and its attachments
        Route("/approvals", approvals.approval_list, methods=["GET"]),
        Route("/approvals/{approval_id}", approvals.approval_page, methods=["GET"]),
        *(Route(f"/approvals/{{approval_id}}/{name}", approvals.step_endpoint(step), methods=["POST"])
          for name, step in approvals.STEPS.items()),
        Route("/approvals/{approval_id}/attachments/{attachment_id}", approvals.attachment, methods=["GET"]),
        # equipment telemetry (设备监测): the institution's devices, register and revoke
        Route("/devices", equipment.device_list, methods=["GET"]),
        Route("/devices", equipment.register_device, methods=["POST"]),
        Route("/devices/{device_id}/revoke", equipment.revoke_device, methods=["POST"]),
        # reservations (网上预约): the institution's resources and the bookings of a day
        Route("/resources", reservations.resource_list, methods=["GET"]),
        Route("/resources/new", reservations.new_resource, methods=["GET", "POST"]),
        Route("/resources/{resource_id}/edit", reservations.edit_resource, methods=["GET", "POST"]),
        Route("/bookings", reservations.bookings_of_day, methods=["GET"]),
        Route("/bookings/{booking_id}/confirm", reservations.confirm_booking, methods=["POST"]),
        Route("/bookings/{booking_id}/cancel", reservations.cancel_booking, methods=["POST"]),
        *_case_work(),
        # complaints (投诉) and the review of memorial messages (网上祭扫)
        Route("/complaints", complaints.complaint_list, methods=["GET"]),
        Route("/complaints/{complaint_id}", complaints.complaint_page, methods=["GET"]),
        Route("/complaints/{complaint_id}/assign", complaints.assign, methods=["POST"]),
        Route("/complaints/{complaint_id}/answer", complaints.answer, methods=["POST"]),
        Route("/complaints/{complaint_id}/close", complaints.close, methods=["POST"]),
        Route("/memorial-messages", memorial_review.review_queue, methods=["GET"]),
        Route("/memorial-messages/{message_id}/review", memorial_review.review, methods=["POST"]),
        Route("/memorial-messages/ratings/{rating_id}/review", memorial_review.review_rating, methods=["POST"]),
        # payments (网上缴费): orders and the daily reconciliation (provincial admin)
        Route("/payments", payments.payments_page, methods=["GET"]),
        Route("/payments/reconciliations", payments.reconcile, methods=["POST"]),
        # satisfaction ratings (满意度评价) of the staff member's institution
        Route("/ratings", ratings.rating_list, methods=["GET"]),
        # credit evaluation (信用评价): the province's records, evaluation and lists; a registrar's own score
        Route("/credit", credit.credit_page, methods=["GET"]),
        Route("/credit/inspections", credit.record_inspection, methods=["POST"]),
        Route("/credit/penalties", credit.record_penalty, methods=["POST"]),
        Route("/credit/evaluations", credit.evaluate, methods=["POST"]),
        Route("/credit/listing", credit.change_listing, methods=["POST"]),
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
