"""Cremation certificates on the portal: anyone verifies one (by number and check code, or by its QR code), and the
printable page the staff workbench renders for a certificate, with its signed QR code as inline SVG."""
from dataclasses import dataclass, field
from datetime import date, datetime

import anyio
import segno
from markupsafe import Markup
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from portal import catalog
from portal.directory import FieldError
from portal.pages import CHINA_TIME, counted
from portal.render import Page, page
from registry.cases.models import Sex
from registry.cremations import verification
from registry.cremations.verification import Outcome

MAX_CHECK_CODE_LENGTH = 32
# what each outcome is called and explained as, and the status a browser gets with it
OUTCOMES: dict[Outcome, tuple[str, str, int]] = {
    Outcome.valid: ("verify_valid", "verify_valid_note", 200),
    Outcome.cancelled: ("verify_cancelled", "verify_cancelled_note", 200),
    Outcome.reissued: ("verify_reissued", "verify_reissued_note", 200),
    Outcome.not_found: ("verify_not_found", "verify_not_found_note", 200),
    Outcome.forged: ("verify_forged", "verify_forged_note", 200),
    Outcome.limited: ("verify_limited_title", "verify_limited", 429),
}


@dataclass
class VerifyForm:
    """What was typed (kept to show it again) and what is wrong with it."""
    number: str = ""
    check_code: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def error_for(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)


def _read_form(request: Request) -> VerifyForm:
    params = request.query_params
    form = VerifyForm(number=params.get("number", "").strip(), check_code=params.get("check_code", "").strip())
    for name, limit in (("number", verification.MAX_NUMBER_LENGTH), ("check_code", MAX_CHECK_CODE_LENGTH)):
        value = getattr(form, name)
        rule, params_ = ("missing", {}) if not value else ("max_length", {"max_length": limit})
        if not value or len(value) > limit:
            form.errors.append(FieldError(name, rule, catalog.ERRORS[(name, rule)].format(**params_)))
    return form


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def verify(request: Request) -> Page:
    """The form; its answer (GET, so it works without JavaScript); or a scanned QR code's landing (`c`, `s`)."""
    params, ctx = request.query_params, request.app.state.ctx
    scanned = "c" in params or "s" in params
    asked = scanned or "number" in params or "check_code" in params
    form = _read_form(request) if asked and not scanned else VerifyForm()
    result = None
    if asked and not form.errors:
        with Session(ctx.engine) as session:
            if scanned:
                result = verification.check_qr(session, ctx=ctx, client=_client(request), c=params.get("c", ""),
                                               s=params.get("s", ""))
            else:
                result = verification.check(session, ctx=ctx, client=_client(request), number=form.number,
                                            check_code=form.check_code)
    title, note, status = OUTCOMES[result.outcome] if result else ("", "", 400 if form.errors else 200)
    return page(request, "certificate_verify.html", status_code=status, province=request.app.state.province,
                form=form, result=result, scanned=scanned, title=catalog.TEXT.get(title, ""),
                note=catalog.TEXT.get(note, ""))


async def verify_endpoint(request: Request) -> Response:
    # never from the page cache: the status is live, and every check is counted (and limited)
    return counted(request, await anyio.to_thread.run_sync(verify, request))


def qr_svg(text: str) -> Markup:
    """The QR code of `text` as inline SVG (no image file, no other host), dark on light for any camera."""
    return Markup(segno.make(text, error="m").svg_inline(border=4, dark="#000", light="#fff", omitsize=True))


def _china_date(value: str) -> date:
    return datetime.fromisoformat(value).astimezone(CHINA_TIME).date()


def age_at_death(birth: date, died: date) -> int:
    return died.year - birth.year - ((died.month, died.day) < (birth.month, birth.day))


def print_page(request: Request, *, certificate: dict, case: dict, province_name: str) -> Page:
    """The printable 火化证明 (A4): `certificate` as GET /api/v1/certificates/{id} answers it, `case` as
    GET /api/v1/cases/{id} (the ID number shows as that answer gives it: masked, or full if disclosed)."""
    died = _china_date(case["death_at"])
    return page(request, "certificate_print.html", province=None, platform=province_name + catalog.TEXT["platform_suffix"],
                certificate=certificate, case=case, sex=catalog.SEX_NAMES[Sex(case["sex"])],
                age=age_at_death(date.fromisoformat(case["birth_date"]), died),
                cremated_on=_china_date(certificate["cremated_at"]), issued_on=_china_date(certificate["issued_at"]),
                qr=qr_svg(certificate["qr_text"]))
