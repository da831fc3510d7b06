"""The workbench's first page: what the signed-in person's roles let them do, and nothing else."""
from starlette.requests import Request
from starlette.responses import Response

from portal.workbench.staff import Staff
from portal.workbench.text import STAFF
from portal.workbench.views import render, staff_page

# (permission, path under /workbench, title key): the tasks of the roles, in the order of a case's life
TASKS = (
    ("cases:write", "/cases/new", "task_declare"),
    ("cases:read", "/cases", "task_cases"),
    ("cases:review", "/cases?status=declared", "task_review"),
    ("cases:review", "/cross-province-matches", "task_matches"),
    ("institutions:write", "/institutions", "task_institutions"),
    ("publications:write", "/publications", "task_publications"),
    ("bookings:manage", "/bookings", "task_bookings"),
    ("equipment:manage", "/devices", "task_devices"),
    ("cases:import", "/imports", "task_imports"),
    ("audit:read", "/audit", "task_audit"),
    ("complaints:read", "/complaints", "task_complaints"),
    ("memorials:moderate", "/memorial-messages", "task_memorial_review"),
    ("payments:manage", "/payments", "task_payments"),
    ("ratings:read", "/ratings", "task_ratings"),
    ("credit:manage", "/credit", "task_credit"),
    ("credit:read-own", "/credit", "task_credit_own"),
    ("statistics:read", "/figures", "task_figures"),
)


@staff_page()
async def home(request: Request, staff: Staff) -> Response:
    tasks = [(path, STAFF[key], STAFF[f"{key}_hint"]) for permission, path, key in TASKS if staff.can(permission)]
    return render(request, "workbench/home.html", staff=staff, current="wb-home", tasks=tasks)
