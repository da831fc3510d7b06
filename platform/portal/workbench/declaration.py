"""The death declaration (死亡登记): a form of every fact `CaseCreate` takes, sent to the registry as typed.

The form's fields are flat (`informant_name`); the API's are nested (`informant.name`). Everything else —
what is valid, what is a duplicate, who may declare — is the API's to say."""
import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import (
    CAUSE_NAMES,
    DEATH_MANNER_NAMES,
    DEATH_PLACE_NAMES,
    ETHNICITY_NAMES,
    ID_TYPE_NAMES,
    SEX_NAMES,
)
from portal.workbench.views import render, staff_page

# the facts of a case as form fields, in the order of the form
FACT_FIELDS = ("deceased_name", "sex", "ethnicity", "id_type", "id_number", "birth_date", "household_region",
               "death_at", "death_place_type", "death_manner", "cause_category", "death_certificate_no",
               "informant_name", "informant_relation", "informant_phone")
INFORMANT = {"informant_name": "name", "informant_relation": "relation", "informant_phone": "phone"}
# the API's field names → the form's: nested informant fields, and a correction's `changes.` prefix
API_FIELDS = {f"informant.{api}": name for name, api in INFORMANT.items()}
API_FIELDS |= {f"changes.{api}": name for api, name in API_FIELDS.items()}
API_FIELDS |= {f"changes.{name}": name for name in FACT_FIELDS if name not in INFORMANT}

CHOICES = {"sex": SEX_NAMES, "ethnicity": ETHNICITY_NAMES, "id_type": ID_TYPE_NAMES,
           "death_place_type": DEATH_PLACE_NAMES, "death_manner": DEATH_MANNER_NAMES, "cause_category": CAUSE_NAMES}

# what a datetime-local input sends: a time without a zone, which here is always China's
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def china_time(value: str) -> str | None:
    """`2026-01-31T14:30` (China time, as typed) → `2026-01-31T14:30:00+08:00` for the API, which takes only times
    with an offset; anything else is sent as typed, for the API to refuse in its own words."""
    if _LOCAL_TIME.match(value):
        return value + (":00" if len(value) == 16 else "") + "+08:00"
    return forms.optional(value)


def local_time(value: str | None) -> str:
    """An API time (already China time, `2026-01-31T14:30:00+08:00`) as a datetime-local input shows it."""
    return (value or "")[:16]


def choices() -> dict[str, list[tuple[str, str]]]:
    return {name: list(names.items()) for name, names in CHOICES.items()}


def facts_of(form: Form, names=FACT_FIELDS) -> dict:
    """The API's facts for the form's fields `names`; an empty field is left out, so the API says it is missing."""
    facts: dict = {}
    for name in names:
        value = form.get(name)
        if not value:
            continue
        if name in INFORMANT:
            facts.setdefault("informant", {})[INFORMANT[name]] = value
        else:
            facts[name] = china_time(value) if name == "death_at" else value
    return facts


def _page(request: Request, staff: Staff, form: Form, *, status_code: int = 200, duplicate_of: str | None = None):
    return render(request, "workbench/declaration.html", staff=staff, current="wb-declare", status_code=status_code,
                  form=form, choices=choices(), duplicate_of=duplicate_of)


@staff_page("cases:write")
async def declaration_form(request: Request, staff: Staff) -> Response:
    return _page(request, staff, Form({"id_type": "resident_id", "ethnicity": "01"}))


@staff_page("cases:read")
async def declare(request: Request, staff: Staff) -> Response:
    """The API decides who may declare: anyone else posting the form sees its refusal, and nothing is written."""
    form = await forms.read(request, staff)
    institution = staff.row.institution_id  # a registrar declares for their own institution
    answer = await registry_api.call(request, staff, "POST", "/cases", json={
        **facts_of(form), **({"institution_id": str(institution)} if institution else {})})
    if answer.ok:
        return RedirectResponse(workbench_path(request, f"/cases/{answer.body['id']}?done=declare"), status_code=303)
    form.take(answer, fields=API_FIELDS)
    duplicate_of = next((p["existing_case_id"] for p in answer.problems if p.get("existing_case_id")), None)
    return _page(request, staff, form, status_code=answer.page_status, duplicate_of=duplicate_of)
