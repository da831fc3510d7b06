"""The auditor's pages: the audit trail, filtered and paged newest first, and the verification of its hash chain."""
import base64
import hashlib
import hmac
import json
import re
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.paging import PAGE_SIZE
from portal.workbench.staff import Staff, workbench_path
from portal.workbench.text import AUDIT_ACTIONS, AUDIT_OBJECTS, STAFF
from portal.workbench.views import render, staff_page
from registry.db_types import CHINA_TZ

FILTERS = ("actor", "action", "object_type", "object_id", "result", "at_from", "at_to")
NAV = [("/audit", "wb-audit", STAFF["nav_audit"]), ("/audit/verify", "wb-audit-verify", STAFF["verify_title"])]


@staff_page("audit:read")
async def audit_log(request: Request, staff: Staff) -> Response:
    """The registry's filters, refused beside their fields; pages by sequence number, so new entries written
    while an auditor reads never shift what "older" means."""
    query = Form({name: request.query_params.get(name, "").strip() for name in FILTERS})
    window = _window(request)
    answer = await registry_api.call(request, staff, "GET", "/audit", params={**query.values, **window.params})
    if not answer.ok:
        query.take(answer, fields={"before": "", "after": ""})
    rows = answer.body["data"] if answer.ok else []
    newer, older = window.neighbours(rows)
    rows = sorted(rows[:PAGE_SIZE], key=lambda e: -e["seq"])
    filters = {k: v for k, v in query.values.items() if v}
    return render(request, "workbench/audit.html", staff=staff, current="wb-audit", extra_nav=NAV,
                  status_code=answer.page_status, form=query, entries=[_shown(e) for e in rows],
                  newer=_href(filters, after=rows[0]["seq"]) if newer and rows else None,
                  older=_href(filters, before=rows[-1]["seq"]) if older and rows else None,
                  newest=_href(filters) if window.before or window.after is not None else None,
                  results=[("ok", STAFF["audit_result_ok"]), ("refused", STAFF["audit_result_refused"])])


class _Window:
    """Which entries a page shows: the newest (before `before`, if given), or the ones just after `after`."""

    def __init__(self, before: str | None, after: str | None):
        self.before, self.after = before or None, after or None
        if self.after is not None:  # oldest first from there, turned round for the page
            self.params = {"after": self.after, "limit": PAGE_SIZE + 1}
        else:
            self.params = {"before": self.before, "newest_first": "true", "limit": PAGE_SIZE + 1}

    def neighbours(self, rows: list[dict]) -> tuple[bool, bool]:
        """(newer entries exist, older entries exist), from one entry more than a page and where we came from."""
        more = len(rows) > PAGE_SIZE
        if self.after is not None:
            return more, True
        return self.before is not None, more


def _window(request: Request) -> _Window:
    return _Window(request.query_params.get("before"), request.query_params.get("after"))


def _href(filters: dict[str, str], **cursor: int) -> str:
    return "?" + urlencode({**filters, **cursor})


def _shown(entry: dict) -> dict:
    """One entry as a row: China time to the second, names in Chinese where known, the detail pretty-printed."""
    try:
        detail = json.dumps(json.loads(entry["detail"]), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        detail = entry["detail"]
    return {**entry, "time": china_time(entry["at"]), "detail_text": detail,
            "action_name": AUDIT_ACTIONS.get(entry["action"], entry["action"]),
            "object_name": AUDIT_OBJECTS.get(entry["object_type"], entry["object_type"]),
            "refused": entry["result"] != "ok",
            "result_name": STAFF["audit_result_ok"] if entry["result"] == "ok" else STAFF["audit_result_refused"]}


def china_time(value: str | datetime) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


# ---- the chain's verification

@staff_page("audit:read")
async def verify_page(request: Request, staff: Staff) -> Response:
    """The verdict of the verification this person just ran (carried in the address, sealed with their session's
    secret, so a forged "intact" cannot be shown), and the button to run it again."""
    verdict = _opened(staff, request.query_params.get("verdict", ""))
    return render(request, "workbench/audit_verify.html", staff=staff, current="wb-audit-verify", extra_nav=NAV,
                  form=Form(), verdict=_worded(verdict) if verdict else None)


@staff_page("audit:read")
async def verify_run(request: Request, staff: Staff) -> Response:
    await forms.read(request, staff)
    answer = await registry_api.call(request, staff, "GET", "/audit/verify")
    if not answer.ok:
        form = Form()
        form.take(answer)
        return render(request, "workbench/audit_verify.html", staff=staff, current="wb-audit-verify",
                      extra_nav=NAV, verdict=None, form=form, status_code=answer.page_status)
    checked_at = datetime.now(CHINA_TZ).isoformat(timespec="seconds")
    sealed = _sealed(staff, {**answer.body, "checked_at": checked_at})
    return RedirectResponse(workbench_path(request, "/audit/verify") + f"?verdict={sealed}", status_code=303)


def _mac(staff: Staff, payload: bytes) -> str:
    key = hmac.new(staff.secret.encode(), b"fsp-workbench-audit-verdict", hashlib.sha256).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _sealed(staff: Staff, verdict: dict) -> str:
    kept = {k: verdict.get(k) for k in ("ok", "checked", "first_broken_seq", "reason", "through_seq", "full",
                                        "checked_at")}
    payload = base64.urlsafe_b64encode(json.dumps(kept, ensure_ascii=False).encode()).decode()
    return f"{payload}.{_mac(staff, payload.encode())}"


def _opened(staff: Staff, sealed: str) -> dict | None:
    payload, _, mac = sealed.partition(".")
    if not payload or not hmac.compare_digest(_mac(staff, payload.encode()), mac):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None


# the registry's reasons (English, for operators) → what an auditor reads
_REASONS = (
    (re.compile(r"entry (\d+) is missing"), lambda m: STAFF["verify_reason_missing"].format(seq=m[1])),
    (re.compile(r"prev_hash does not match"), lambda m: STAFF["verify_reason_link"]),
    (re.compile(r"content does not match its hash"), lambda m: STAFF["verify_reason_content"]),
    (re.compile(r"entry has no seal"), lambda m: STAFF["verify_reason_no_seal"]),
    (re.compile(r"seal \(HMAC-SM3\) does not match"), lambda m: STAFF["verify_reason_seal"]),
    (re.compile(r"differs from the checkpoint"), lambda m: STAFF["verify_reason_checkpoint"]),
    (re.compile(r"chain ends at (\d+) but (?:the checkpoint .* records entry )?(\d+)"),
     lambda m: STAFF["verify_reason_cut"].format(last=m[1], expected=m[2])),
    (re.compile(r"^audit anchor:"), lambda m: STAFF["verify_reason_anchor"]),
)


def explain(reason: str | None) -> str:
    for pattern, words in _REASONS:
        found = pattern.search(reason or "")
        if found:
            return words(found)
    return STAFF["verify_reason_unknown"]


def _worded(verdict: dict) -> dict:
    """The verdict's sentences for the page."""
    if verdict.get("ok"):
        through = verdict.get("through_seq") or 0
        headline = STAFF["verify_intact"].format(seq=through) if through else STAFF["verify_empty"]
    elif verdict.get("first_broken_seq"):
        headline = STAFF["verify_broken_at"].format(seq=verdict["first_broken_seq"], what=explain(verdict["reason"]))
    else:
        headline = STAFF["verify_broken"].format(what=explain(verdict.get("reason")))
    return {**verdict, "headline": headline, "checked_at_text": china_time(verdict["checked_at"])}
