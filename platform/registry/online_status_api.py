"""POST /api/v1/status-lookups: 办件查询 by query code, public (no sign-in), limited per client."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check

from registry import errors, messages, online_status
from registry.db_types import ChinaTime
from registry.deps import API_PREFIX, ContextDep, SessionDep
from registry.online_status import Outcome

router = APIRouter(prefix=API_PREFIX, tags=["online services"])
CODE_PATTERN = r"^[\s-]*(?:[A-HJKMNP-Za-hjkmnp-z2-9][\s-]*){12}$"


class StatusLookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # the pattern documents the shape (query_codes.ALPHABET, any case, spaces or dashes between); a code of another
    # shape is answered by the lookup itself (400 query_code_format), after costing the client an attempt
    code: str = Check(min_length=1, max_length=64, description="the query code (查询码), e.g. K7QM-2HXP-9TRA",
                      json_schema_extra={"pattern": CODE_PATTERN})


class StatusLookupAnswer(BaseModel):
    """Where the item stands, never who or what it is about: `kind` and `status` are machine values."""
    kind: str
    number: str
    status: str
    updated_at: ChinaTime
    due_on: ChinaTime | None


def _answer(request: Request, status: int, title: str, problem: dict, headers: dict | None = None) -> JSONResponse:
    """Answered here, not raised: each miss audited would let anyone grow the audit trail (the limit's trip is)."""
    language = messages.language_of(request.headers.get("accept-language"))
    return JSONResponse(errors.body(status, messages.title(status, language, title), [errors.localize(problem, language)]),
                        status_code=status, headers=headers)


@router.post("/status-lookups", response_model=StatusLookupAnswer, responses={
    400: {"model": errors.ErrorBody, "description": "Not a query code"},
    404: {"model": errors.ErrorBody, "description": "No item has this code (unknown and wrong codes alike)"},
    429: {"model": errors.ErrorBody, "description": "Too many lookups without a match from this client"}})
def look_up_status(body: StatusLookupRequest, request: Request, session: SessionDep,
                   ctx: ContextDep) -> StatusLookupAnswer | JSONResponse:
    """Anyone holding a query code sees the status of its application, booking or complaint; no sign-in."""
    client = request.client.host if request.client else "unknown"
    found = online_status.look_up(session, ctx=ctx, client=client, code=body.code)
    if found.outcome == Outcome.limited:
        return _answer(request, 429, "too many requests", {
            "field": "code", "rule": "too_many_attempts", "message": "too many lookups from this client; try later"},
            headers={"Retry-After": str(int(ctx.query_attempts.window))})
    if found.outcome == Outcome.malformed:
        return _answer(request, 400, "bad request", {
            "field": "code", "rule": "query_code_format", "message": "not a query code: 12 letters and digits"})
    if found.outcome == Outcome.not_found:
        return _answer(request, 404, "not found", {
            "field": "code", "rule": "query_code_unknown", "message": "no item with this query code"})
    status = found.status
    return StatusLookupAnswer(kind=status.kind, number=status.number, status=status.status,
                              updated_at=status.updated_at, due_on=status.due_on)


