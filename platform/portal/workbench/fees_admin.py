"""The forms of an institution's page: publish a fee, end a fee, set what the institution discloses.

Each posts to its own route and goes through the registry's API (its rules: one price per service and day, no
retroactive change); on success back to the page with a notice, on refusal the page again with what was typed."""
import re
import uuid
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.institutions_admin import PERMISSION, institution_path, path_id, show
from portal.workbench.staff import Staff
from portal.workbench.text import STAFF
from portal.workbench.views import not_found, staff_page

FEE_FIELDS = ("name", "category", "unit", "pricing_basis", "effective_from")
# yuan as typed: digits, and decimals checked apart so that `480.005` is told it has too many
PRICE = re.compile(r"\d{1,12}(\.\d+)?")


class PriceRefused(ValueError):
    """A price that is no amount of yuan and fen; its argument is the STAFF key of the message."""


def fen_of(typed: str) -> int:
    """`480.00` yuan → 48000 fen, exactly (decimal, never float): money is sent to the registry in fen."""
    if not typed:
        raise PriceRefused("fee_price_required")
    if not PRICE.fullmatch(typed):
        raise PriceRefused("fee_price_format")
    amount = Decimal(typed)
    if -amount.as_tuple().exponent > 2:
        raise PriceRefused("fee_price_decimals")
    return int(amount * 100)


@staff_page(PERMISSION)
async def publish_fee(request: Request, staff: Staff) -> Response:
    institution_id = path_id(request)
    if institution_id is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    try:
        price_fen = fen_of(form.get("price"))
    except PriceRefused as refused:
        form.refuse("price", STAFF[refused.args[0]])
        return await show(request, staff, institution_id, fee=form, status_code=400)
    # an empty required field is absent, so the registry says it is missing
    body = {name: form.get(name) for name in FEE_FIELDS if form.get(name)}
    body.update(price_fen=price_fen, effective_to=forms.optional(form.get("effective_to")),
                description=forms.optional(form.get("description")))
    answer = await registry_api.call(request, staff, "POST", f"/institutions/{institution_id}/service-items",
                                     json=body)
    if not answer.ok:
        form.take(answer, fields={"price_fen": "price"})
        return await show(request, staff, institution_id, fee=form, status_code=answer.page_status)
    return RedirectResponse(institution_path(request, institution_id, done="fee", anchor="#fees"), status_code=303)


@staff_page(PERMISSION)
async def end_fee(request: Request, staff: Staff) -> Response:
    institution_id = path_id(request)
    if institution_id is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    try:
        item_id = str(uuid.UUID(form.get("item_id")))
    except ValueError:
        form.refuse("item_id", STAFF["fee_end_item_required"])
        return await show(request, staff, institution_id, end=form, status_code=400)
    body = {"effective_to": form.get("end_on")} if form.get("end_on") else {}
    answer = await registry_api.call(request, staff, "POST", f"/institutions/{institution_id}/service-items/"
                                     f"{item_id}/end", json=body)
    if not answer.ok:
        form.take(answer, fields={"effective_to": "end_on"})
        return await show(request, staff, institution_id, end=form, status_code=answer.page_status)
    return RedirectResponse(institution_path(request, institution_id, done="ended", anchor="#fees"), status_code=303)


@staff_page(PERMISSION)
async def set_disclosure(request: Request, staff: Staff) -> Response:
    """The whole disclosure replaces what was there; commitments are typed one per line."""
    institution_id = path_id(request)
    if institution_id is None:
        return not_found(request, staff)
    form = await forms.read(request, staff)
    body = {name: forms.optional(form.get(name)) for name in ("opening_hours", "supervising_authority",
                                                              "complaint_phone")}
    body["commitments"] = [line.strip() for line in form.get("commitments").splitlines() if line.strip()]
    answer = await registry_api.call(request, staff, "PUT", f"/institutions/{institution_id}/disclosure", json=body)
    if not answer.ok:
        # a refused commitment (`commitments.3`) is shown beside the one textarea that holds them all
        answer.problems = [{**problem, "field": "commitments"} if str(problem.get("field")).startswith("commitments.")
                           else problem for problem in answer.problems]
        form.take(answer)
        return await show(request, staff, institution_id, disclosure=form, status_code=answer.page_status)
    return RedirectResponse(institution_path(request, institution_id, done="disclosure", anchor="#disclosure"),
                            status_code=303)

