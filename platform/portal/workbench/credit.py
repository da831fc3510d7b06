"""Credit evaluation (信用评价) in the workbench. The province's admins record annual inspections and administrative
penalties, run the year's evaluation, read every institution's score and change a list with a reason; a registrar
reads its own institution's score and the facts behind it. The registry's credit API decides who may and what is
valid; these pages only ask and show its answers."""
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.pages import china_today
from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import STAFF
from portal.workbench.views import message, render, staff_page

MANAGE, OWN = "credit:manage", "credit:read-own"
NAV = [("/credit", "wb-credit", STAFF["nav_credit"])]
RESULTS = ("qualified", "basically_qualified", "unqualified")
CATEGORIES = ("licence", "pricing", "service", "safety", "environment", "records", "other")
KINDS = ("warning", "fine", "confiscation", "suspension", "licence_revocation")
# each form's fields are prefixed, so two forms of the page never share an id; the registry's names map to them
FORMS = {
    "inspection": {"institution_id": "insp_institution_id", "year": "insp_year", "inspected_on": "insp_inspected_on",
                   "result": "insp_result", "findings": "insp_findings",
                   **{f"findings.{n}.{part}": "insp_findings" for n in range(50) for part in ("text", "category")}},
    "penalty": {"institution_id": "pen_institution_id", "decided_on": "pen_decided_on", "decision_no": "pen_decision_no",
                "kind": "pen_kind", "amount_fen": "pen_amount", "reason": "pen_reason"},
    "evaluation": {"year": "eval_year"},
    "listing": {"institution_id": "list_institution_id", "listing": "list_listing", "reason": "list_reason"},
}


def _year(request: Request) -> int:
    raw = request.query_params.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else china_today().year


def _names(choices: tuple[str, ...], prefix: str) -> list[tuple[str, str]]:
    return [(value, STAFF[f"{prefix}{value}"]) for value in choices]


async def _page(request: Request, staff: Staff, *, year: int, posted: tuple[str, Form] | None = None,
                status_code: int = 200) -> Response:
    if not staff.can(MANAGE):
        own = await registry_api.call(request, staff, "GET", "/credit/scores/mine", params={"year": year})
        return render(request, "workbench/credit_own.html", staff=staff, current="wb-credit",
                      status_code=own.page_status if not own.ok else 200, year=year,
                      score=own.body["score"] if own.ok else None, extra_nav=NAV, **_labels())
    scores = await registry_api.call(request, staff, "GET", "/credit/scores", params={"year": year})
    inspections = await registry_api.call(request, staff, "GET", "/credit/inspections", params={"year": year})
    penalties = await registry_api.call(request, staff, "GET", "/credit/penalties", params={"year": year})
    institutions = await registry_api.call(request, staff, "GET", "/institutions", params={"limit": 500})
    names = {row["id"]: row["name"] for row in institutions.body["data"]} if institutions.ok else {}
    every = {name: Form() for name in FORMS}
    if posted:
        every[posted[0]] = posted[1]
    return render(request, "workbench/credit.html", staff=staff, current="wb-credit", status_code=status_code,
                  year=year, forms=every, scores=scores.body["data"] if scores.ok else [],
                  inspections=inspections.body["data"] if inspections.ok else [],
                  penalties=penalties.body["data"] if penalties.ok else [], institution_names=names,
                  institutions=sorted(names.items(), key=lambda item: item[1]),
                  results=_names(RESULTS, "credit_result_"), categories=_names(CATEGORIES, "credit_category_"),
                  kinds=_names(KINDS, "credit_kind_"),
                  listings=[("red", STAFF["credit_list_red"]), ("black", STAFF["credit_list_black"]),
                            ("none", STAFF["credit_list_none"])],
                  done=request.query_params.get("done"), extra_nav=NAV, **_labels())


def _labels() -> dict:
    return {"result_names": dict(_names(RESULTS, "credit_result_")), "kind_names": dict(_names(KINDS, "credit_kind_")),
            "category_names": dict(_names(CATEGORIES, "credit_category_")),
            "list_names": {"red": STAFF["credit_list_red"], "black": STAFF["credit_list_black"]}}


@staff_page()
async def credit_page(request: Request, staff: Staff) -> Response:
    if not (staff.can(MANAGE) or staff.can(OWN)):
        return message(request, staff, heading=STAFF["forbidden_title"], text=STAFF["forbidden"], status_code=403)
    return await _page(request, staff, year=_year(request))


def _fen(form: Form, name: str) -> int | None:
    """Yuan as typed (up to two places) in fen; an empty field is no amount."""
    typed = form.get(name)
    try:
        amount = Decimal(typed or "0")
    except InvalidOperation:
        amount = Decimal(-1)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        form.refuse(name, STAFF["credit_amount_refused"])
        return None
    return int(amount * 100)


def _body(kind: str, form: Form) -> dict | None:
    """The API's body of the posted form (None when the page itself refused a field)."""
    if kind == "inspection":
        findings = [{"category": form.get("insp_category") or "other", "text": line.strip()}
                    for line in form.get("insp_findings").splitlines() if line.strip()]
        return {"institution_id": form.get("insp_institution_id"), "year": form.get("insp_year"),
                "inspected_on": form.get("insp_inspected_on"), "result": form.get("insp_result"), "findings": findings}
    if kind == "penalty":
        amount = _fen(form, "pen_amount")
        return None if amount is None else {
            "institution_id": form.get("pen_institution_id"), "decided_on": form.get("pen_decided_on"),
            "decision_no": form.get("pen_decision_no"), "kind": form.get("pen_kind"), "amount_fen": amount,
            "reason": form.get("pen_reason")}
    if kind == "evaluation":
        return {"year": form.get("eval_year")}
    listing = form.get("list_listing")
    return {"listing": None if listing == "none" else listing, "reason": form.get("list_reason")}


def _action(kind: str, path: str):
    @staff_page(MANAGE)
    async def act(request: Request, staff: Staff) -> Response:
        form = await forms.read(request, staff)
        year = _year(request)
        body = _body(kind, form)
        if body is not None:
            target = path.format(institution_id=form.get("list_institution_id") or "-", year=year)
            if kind in ("inspection", "evaluation"):
                body["year"] = int(body["year"]) if str(body["year"]).isdigit() else body["year"]
            answer = await registry_api.call(request, staff, "POST", target, json=body)
            if answer.ok:
                shown = body.get("year") if kind == "evaluation" and isinstance(body.get("year"), int) else year
                return RedirectResponse(workbench_path(request, f"/credit?year={shown}&done={kind}"), status_code=303)
            form.take(answer, fields=FORMS[kind])
        return await _page(request, staff, year=year, posted=(kind, form), status_code=400)
    return act


record_inspection = _action("inspection", "/credit/inspections")
record_penalty = _action("penalty", "/credit/penalties")
evaluate = _action("evaluation", "/credit/evaluations")
change_listing = _action("listing", "/credit/scores/{institution_id}/{year}/listing")
