"""POST /api/v1/exchange/batches: only the ministry mounts it; the signature is checked before anything else.

The router answers every refusal itself (and audits it), so it behaves the same inside the ministry's registry
app and inside the exchange hub.
"""
import gc
import re
from dataclasses import dataclass
from pathlib import Path

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from pydantic_core import from_json
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from registry import errors
from registry.db_types import utcnow
from registry.deps import API_PREFIX
from registry.exchange import matches, service
from registry.exchange.metrics import HubMetrics
from registry.exchange.models import Batch, BatchAck
from registry.exchange.signing import SIGNATURE_HEADER, verified
from registry.journal import Journal

router = APIRouter(prefix=f"{API_PREFIX}/exchange", tags=["exchange"])
# a batch may be larger than other requests: up to the receiver's exchange_max_batch_bytes
BATCHES_PATH = re.compile(r"(?:/[^/]+)*" + re.escape(f"{API_PREFIX}/exchange/batches"))  # mounted under /<slug> too


@dataclass
class Receiver:
    """What the endpoint needs: the ministry's database, the trusted peers and the hub metrics."""

    journal: Journal
    peers_dir: Path | None
    metrics: HubMetrics
    max_events: int


def mount(app: FastAPI, *, journal: Journal, peers_dir: Path | None, registry, max_events: int) -> None:
    """Add the receiving endpoint to a ministry app."""
    settle_startup_objects()
    app.state.exchange = Receiver(journal=journal, peers_dir=peers_dir, metrics=HubMetrics(registry),
                                  max_events=max_events)
    app.include_router(router)


def settle_startup_objects() -> None:
    """What the process holds by now (modules, models, schemas) lives as long as the process: the garbage collector
    need not walk it again and again while a batch makes thousands of objects (it took ~40 % of applying one)."""
    gc.freeze()


@router.post("/batches", response_model=BatchAck,
             responses={401: {"description": "unknown province or bad signature"},
                        409: {"description": "gap before the batch, or a resent event that differs"},
                        422: {"description": "malformed batch"}})
async def receive_batch(request: Request) -> JSONResponse:
    """Store a province's signed batch (idempotent) and acknowledge how far its outbox has been received.

    Body: canonical JSON {province, province_code, first_seq, last_seq, events[...]}; header
    X-FSP-Exchange-Signature: `sm2:<base64url>` SM2 (or untagged base64 Ed25519) signature of exactly those bytes.
    """
    body = await request.body()  # the exact bytes: the signature covers them, not a re-serialised model
    signature = request.headers.get(SIGNATURE_HEADER)
    return await anyio.to_thread.run_sync(_receive, request.app.state.exchange, body, signature)


@router.post("/matches", response_model=matches.MatchesAnswer,
             responses={401: {"description": "unknown province or bad signature"},
                        422: {"description": "malformed request, or requested_at too far from now"}})
async def pull_matches(request: Request) -> JSONResponse:
    """The pairs naming the province (one person registered in it and in another) past its last match number.

    Body: canonical JSON {after, province, requested_at}, signed like a batch (X-FSP-Exchange-Signature);
    `requested_at` within 5 minutes of the ministry's clock. A pull that returns pairs is audited.
    """
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    return await anyio.to_thread.run_sync(_answer_matches, request.app.state.exchange, body, signature)


def _answer_matches(receiver: Receiver, body: bytes, signature: str | None) -> JSONResponse:
    signed = _signed(receiver, body, signature)
    if isinstance(signed, JSONResponse):
        return signed
    parsed, province = signed
    try:
        asked = matches.MatchesRequest.model_validate(parsed)
    except ValidationError as exc:
        return _invalid(receiver, exc, province)
    if not matches.is_fresh(asked.requested_at, utcnow()):  # a captured request is no good later
        return _refuse(receiver, 422, "invalid", "requested_at", "fresh_request",
                       "requested_at must be within 5 minutes of the ministry's clock", actor=province)
    with Session(receiver.journal.engine) as session:
        answer = matches.matches_for(session, province=province, after=asked.after)
        if answer.matches:  # what left the ministry is audited; an empty answer every round is not worth a line
            with receiver.journal.write(session, actor=f"exchange:{province}") as unit:
                unit.record(action=matches.MATCHES_ACTION, object_type="person_matches",
                            object_id=f"{province}:{answer.matches[0].id}-{answer.matches[-1].id}",
                            detail={"province": province, "after": asked.after, "returned": len(answer.matches)})
    receiver.metrics.matches.labels(province=province).inc(len(answer.matches))
    return JSONResponse(answer.model_dump(mode="json"))


def _signed(receiver: Receiver, body: bytes, signature: str | None) -> tuple[dict, str] | JSONResponse:
    """(the parsed body, its province) when a registered province key signed it; else the refusal."""
    try:
        parsed = from_json(body)  # once: the request is validated from this after the signature is checked
        province = parsed.get("province")
    except (ValueError, AttributeError):
        return _refuse(receiver, 422, "invalid", "body", "json", "the body is not a JSON object")
    if not isinstance(province, str) or not verified(receiver.peers_dir, province, body, signature):
        # one answer for "unknown province" and "bad signature": a caller learns nothing about the peers
        return _refuse(receiver, 401, "unauthorized", "signature", "exchange_signature",
                       f"no valid {SIGNATURE_HEADER} by a registered province key")
    return parsed, province


def _invalid(receiver: Receiver, exc: ValidationError, province: str) -> JSONResponse:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return _refuse(receiver, 422, "invalid", field, first["type"], first["msg"], actor=province)


def _receive(receiver: Receiver, body: bytes, signature: str | None) -> JSONResponse:
    signed = _signed(receiver, body, signature)
    if isinstance(signed, JSONResponse):
        return signed
    parsed, province = signed
    try:
        batch = Batch.model_validate(parsed)
    except ValidationError as exc:
        return _invalid(receiver, exc, province)
    if len(batch.events) > receiver.max_events:
        return _refuse(receiver, 422, "invalid", "events", "max_items",
                       f"at most {receiver.max_events} events per batch", actor=province)
    with Session(receiver.journal.engine, expire_on_commit=False) as session:
        try:
            through, stored, epoch = service.receive_batch(session, batch, journal=receiver.journal)
        except errors.DomainError as exc:
            session.rollback()  # the write head and its locks go before the refusal is audited
            reason = "gap" if exc.problems[0].rule == "no_gap" else "conflict"
            problem = exc.problems[0]
            return _refuse(receiver, exc.status, reason, problem.field, problem.rule, problem.message,
                           actor=province, **problem.extra)
        except IntegrityError:
            session.rollback()  # another receiver stored the same events first; the sender resends
            return _refuse(receiver, 409, "conflict", "events", "constraint",
                           "conflicts with events received concurrently; send the batch again", actor=province)
    receiver.metrics.batches.labels(province=province).inc()
    receiver.metrics.events.labels(province=province).inc(stored)
    return JSONResponse(BatchAck(acknowledged_through=through, stored=stored, epoch=epoch).model_dump())


def _refuse(receiver: Receiver, status: int, reason: str, field: str, rule: str, message: str, *,
            actor: str | None = None, **extra) -> JSONResponse:
    """The one error shape, audited in its own transaction; nothing of the batch was written."""
    problems = [errors.Problem(field, rule, message, extra).as_dict()]
    receiver.metrics.refusals.labels(reason=reason).inc()
    # the claimed province is named only once its signature verified: an unverified name is not an actor
    receiver.journal.refused(actor=f"exchange:{actor}" if actor else "anonymous", action=service.RECEIVE_ACTION,
                             status=status, problems=problems)
    title = {401: "unauthorized", 409: "conflict", 422: "invalid input"}[status]
    return JSONResponse(errors.body(status, title, problems), status_code=status)
