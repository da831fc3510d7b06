"""Backfill of archived cases (历史数据补录) for the provincial admin: a JSON Lines file (or pasted lines) sent to
the registry's `POST /cases/imports` in batches it accepts, and its answer, record by record, as a report.

The registry checks and answers each record on its own (a batch is one transaction, but a refused record does not
hold back the others), so the report is the registry's own: which lines were imported, which were already there,
and which were refused, field by field. Re-sending a file changes nothing (its records are already present), so the
report is shown in answer to the upload itself rather than kept anywhere; its CSV is made from the page's report."""
import csv
import io
import json
from dataclasses import asdict, dataclass, field

import anyio
from starlette.requests import Request
from starlette.responses import Response

from portal.workbench import forms, registry_api
from portal.workbench.forms import Form
from portal.workbench.staff import Staff, csrf_ok, ctx_of
from portal.workbench.text import STAFF
from portal.workbench.views import render, staff_page
from registry import messages
from registry.cases.models import MAX_IMPORT_RECORDS

# room for the form's other fields and the multipart framing around a file of the registry's body limit
FRAMING_BYTES = 8 * 1024
# the batch's JSON envelope `{"records":[...]}` and the commas between records
ENVELOPE_BYTES = 64
# a CSV cell starting with one of these is a formula to a spreadsheet: kept as text
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NAV = [("/imports", "wb-imports", STAFF["nav_imports"])]


@dataclass
class Line:
    """One record of the upload and what became of it."""
    number: int
    archive_ref: str | None = None
    outcome: str = "refused"
    case_id: str | None = None
    errors: list[dict] = field(default_factory=list)


@dataclass
class Report:
    lines: list[Line]
    batches: int

    def count(self, outcome: str) -> int:
        return sum(line.outcome == outcome for line in self.lines)

    @property
    def refused(self) -> list[Line]:
        return [line for line in self.lines if line.outcome == "refused"]


def _limits(request: Request) -> dict:
    limit = ctx_of(request).settings.max_body_bytes
    return {"limit": limit, "limit_text": _size(limit), "batch": MAX_IMPORT_RECORDS}


def _size(count: int) -> str:
    return f"{count // 1024} KB" if count % 1024 == 0 else f"{count} 字节"


@staff_page("cases:import")
async def imports_page(request: Request, staff: Staff) -> Response:
    return render(request, "workbench/imports.html", staff=staff, current="wb-imports", extra_nav=NAV, form=Form(), report=None,
                  **_limits(request))


@staff_page("cases:import")
async def imports_run(request: Request, staff: Staff) -> Response:
    limits = _limits(request)
    capped = await _within(request, limits["limit"] + FRAMING_BYTES)
    if capped is None:
        return await _too_big(request, staff, limits)
    form = await forms.read(capped, staff)
    upload = (await capped.form()).get("file")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    pasted = form.get("lines")
    if data and pasted:
        form.refuse("file", STAFF["imports_refused_both"])
    elif not data and not pasted:
        form.refuse("file", STAFF["imports_refused_nothing"])
    elif len(data) > limits["limit"] or len(pasted.encode()) > limits["limit"]:
        return await _too_big(request, staff, limits, form)
    if form.errors:
        return _page(request, staff, form, limits, status_code=400)
    try:
        text = data.decode("utf-8-sig") if data else pasted
    except UnicodeDecodeError:
        form.refuse("file", STAFF["imports_refused_encoding"])
        return _page(request, staff, form, limits, status_code=400)
    report = await _import(request, staff, text, max_bytes=limits["limit"])
    return _page(request, staff, Form(), limits, report=report)


def _page(request: Request, staff: Staff, form: Form, limits: dict, *, report: Report | None = None,
          status_code: int = 200) -> Response:
    return render(request, "workbench/imports.html", staff=staff, current="wb-imports", extra_nav=NAV, form=form, report=report,
                  report_json=json.dumps([asdict(line) for line in report.lines], ensure_ascii=False) if report else "",
                  field_name=lambda name: messages.field_name(str(name), messages.ZH),
                  status_code=status_code, **limits)


async def _within(request: Request, limit: int) -> Request | None:
    """The request again, its body read up to `limit` bytes (None past it): an upload is refused before it fills
    memory, whatever its Content-Length says."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}
    return Request(request.scope, receive=replay)


async def _too_big(request: Request, staff: Staff, limits: dict, form: Form | None = None) -> Response:
    """Refused before anything reaches the registry, and audited like the registry's own 413."""
    message = STAFF["imports_refused_size"].format(size=limits["limit_text"])
    ctx = ctx_of(request)
    await anyio.to_thread.run_sync(lambda: ctx.journal.refused(
        actor=staff.row.subject or "anonymous", action="staff.import", status=413,
        problems=[{"field": "file", "rule": "max_size", "message": f"upload exceeds {limits['limit']} bytes"}]))
    form = form or Form()
    form.values.pop("lines", None)  # what was pasted past the limit is not sent back either
    form.refuse("file", message)
    return _page(request, staff, form, limits, status_code=413)


def parse(text: str) -> tuple[list[tuple[Line, dict]], list[Line]]:
    """(records to send with their lines, lines refused here because they are not a JSON object); blank lines
    are skipped but counted, so line numbers are the file's."""
    records, unreadable = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            unreadable.append(Line(number, errors=[{"field": "", "message": STAFF["imports_line_not_json"]}]))
            continue
        ref = record.get("archive_ref")
        records.append((Line(number, archive_ref=ref if isinstance(ref, str) else None), record))
    return records, unreadable


def batches(records: list[tuple[Line, dict]], *, max_count: int, max_bytes: int) -> list[list[tuple[Line, dict]]]:
    """Consecutive records in batches the registry accepts: at most `max_count`, their body under `max_bytes`
    (measured as sent, with non-ASCII escaped: the larger of the two ways a client may encode it)."""
    out: list[list[tuple[Line, dict]]] = [[]]
    size = ENVELOPE_BYTES
    for line, record in records:
        grows = len(json.dumps(record).encode()) + 1
        if out[-1] and (len(out[-1]) >= max_count or size + grows > max_bytes):
            out.append([])
            size = ENVELOPE_BYTES
        out[-1].append((line, record))
        size += grows
    return [batch for batch in out if batch]


async def _import(request: Request, staff: Staff, text: str, *, max_bytes: int) -> Report:
    records, unreadable = parse(text)
    sent = batches(records, max_count=MAX_IMPORT_RECORDS, max_bytes=max_bytes)
    for batch in sent:
        answer = await registry_api.call(request, staff, "POST", "/cases/imports",
                                         json={"records": [record for _, record in batch]})
        _answered(batch, answer)
    lines = sorted([line for line, _ in records] + unreadable, key=lambda line: line.number)
    return Report(lines, len(sent))


def _answered(batch: list[tuple[Line, dict]], answer: registry_api.Answer) -> None:
    """Each line gets its record's answer; a batch refused as a whole (not per record) refuses each of its lines
    with the registry's words."""
    if not answer.ok:
        problems = answer.problems or [{"field": "", "message": answer.title or STAFF["api_failed"]}]
        for line, _ in batch:
            line.errors = [{"field": p.get("field", ""), "message": STAFF["imports_batch_refused"].format(
                message=p.get("message", ""))} for p in problems]
        return
    for (line, _), result in zip(batch, sorted(answer.body["results"], key=lambda r: r["index"])):
        line.outcome = result["outcome"]
        line.archive_ref = result.get("archive_ref")  # the registry's: a malformed one is not repeated back
        line.case_id = result.get("case_id")
        line.errors = [{"field": e.get("field", ""), "message": e.get("message", "")} for e in result.get("errors", [])]


@staff_page("cases:import")
async def report_csv(request: Request, staff: Staff) -> Response:
    """The report of the page, as a spreadsheet: UTF-8 with a BOM so that Excel reads the Chinese."""
    posted = await request.form()
    if not csrf_ok(staff.secret, str(posted.get("csrf_token", ""))):
        raise forms.CsrfRefused()
    try:
        lines = [Line(**line) for line in json.loads(str(posted.get("report", "[]")))]
    except (ValueError, TypeError):
        lines = []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([STAFF["report_col_line"], STAFF["report_col_ref"], STAFF["report_csv_outcome"],
                     STAFF["report_csv_case"], STAFF["report_col_field"], STAFF["report_col_message"]])
    for line in lines:
        outcome = STAFF.get(f"report_outcome_{line.outcome}", line.outcome)
        for error in line.errors or [{}]:
            writer.writerow([_cell(v) for v in (line.number, line.archive_ref or "", outcome, line.case_id or "",
                             messages.field_name(str(error.get("field", "")), messages.ZH) if error else "",
                             error.get("message", ""))])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="import-report.csv"'})


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
