"""The printable cremation certificate (火化证明) with its signed QR code, for the staff who may read the case."""
import uuid

from starlette.requests import Request
from starlette.responses import Response

from portal import certificates
from portal.workbench import registry_api
from portal.workbench.staff import Staff
from portal.workbench.views import HEADERS, not_found, staff_page


@staff_page("cases:read")
async def print_certificate(request: Request, staff: Staff) -> Response:
    """The certificate and its case as the registry answers this person (404 for a case they may not read)."""
    try:
        certificate_id = uuid.UUID(request.path_params["certificate_id"])
    except ValueError:
        return not_found(request, staff)
    certificate = await registry_api.call(request, staff, "GET", f"/certificates/{certificate_id}")
    if not certificate.ok:
        return not_found(request, staff)
    case = await registry_api.call(request, staff, "GET", f"/cases/{certificate.body['case_id']}")
    if not case.ok:
        return not_found(request, staff)
    response = certificates.print_page(request, certificate=certificate.body, case=case.body,
                                       province_name=request.app.state.province.name)
    response.headers.update(HEADERS)
    return response
