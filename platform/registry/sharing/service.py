"""Deliver death notices to a department: the outbox after its cursor, signed, posted, acknowledged, audited.

A department reads the same outbox as the exchange, with its own cursor. Only confirmed deaths are shared
(`SHARED_EVENTS`: registered or backfilled cases, and later corrections of them), each with the fields of that
department alone, as the case stands when it is delivered; the ID number is decrypted only for those that
need it. A batch is signed like an exchange batch (SM2 or, before the switch, Ed25519; the province's exchange key; header
`X-FSP-Exchange-Signature`) and posted to `<url>/notices`; the department answers `{"received_through": seq}`.
Only then does the cursor move, in the transaction that audits the disclosure (who, which department, which
seqs, how many people, which fields: never the data itself). A department must treat a notice it has seen
(same province and seq) as delivered: after a crash between its answer and the cursor update, it is sent again.
"""
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from registry import tenant_status
from registry.cases.fields import ID_CONTEXT
from registry.cases.models import Case, CaseStatus
from registry.db_types import china_isoformat, utcnow
from registry.exchange.signing import SIGNATURE_HEADER, BatchSigner, canonical
from registry.journal import Journal
from registry.outbox.models import OutboxEvent
from registry.security.keys import TenantKeys
from registry.sharing.departments import CONFIRMING_EVENTS, SHARED_EVENTS, Department
from registry.sharing.models import SharingCursor

NOTICES_PATH = "/notices"


class DeliveryError(Exception):
    """The department did not take a batch, which stays pending. `reason`: unavailable, refused or concurrent;
    `report`: what was delivered before it."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.report: DeliveryReport | None = None


@dataclass
class DeliveryReport:
    department: str
    notices: int = 0
    batches: int = 0
    through: int = 0
    problems: list[str] = field(default_factory=list)
    # the tenant is suspended (`fsp suspend`): nothing was delivered, nothing was tried
    paused: bool = False


@dataclass(frozen=True)
class Province:
    slug: str
    code: str


def delivered_seq(session: Session, department: str) -> int:
    cursor = session.get(SharingCursor, department)
    return cursor.delivered_seq if cursor else 0


def notices_after(session: Session, keys: TenantKeys, department: Department, *, after: int,
                  limit: int) -> tuple[list[dict], int | None]:
    """The notices among the next `limit` outbox events after `after`, and the last seq read (None: none)."""
    events = session.exec(select(OutboxEvent).where(OutboxEvent.seq > after)
                          .order_by(col(OutboxEvent.seq)).limit(limit)).all()
    if not events:
        return [], None
    shared = [event for event in events if event.event_type in SHARED_EVENTS]
    cases = _cases(session, shared)
    notices = []
    for event in shared:
        case = cases.get(uuid.UUID(event.aggregate_id))
        # cases are never deleted (a missing one is not shared rather than guessed); a correction is shared only
        # for a case that was, and an unconfirmed one gets its facts when a reviewer registers it
        if case is not None and _shared(event.event_type, case):
            facts = _facts(case, keys, with_id_number="id_number" in department.fields)
            notices.append({"seq": event.seq, "event": event.event_type, "case_id": str(case.id),
                            **{name: facts[name] for name in department.fields}})
    return notices, events[-1].seq


def _cases(session: Session, events) -> dict[uuid.UUID, Case]:
    """The cases the events (anything with an aggregate_id) are about, by id."""
    ids = {uuid.UUID(event.aggregate_id) for event in events}
    return {case.id: case for case in session.exec(select(Case).where(col(Case.id).in_(ids)))} if ids else {}


def _shared(event_type: str, case: Case) -> bool:
    return event_type in CONFIRMING_EVENTS or case.status != CaseStatus.declared


def _facts(case: Case, keys: TenantKeys, *, with_id_number: bool) -> dict:
    # decrypted only for the departments whose task needs the number
    number = (keys.field_ring.decrypt(case.id_number_cipher, context=ID_CONTEXT.encode())
              if with_id_number and case.id_number_cipher else None)
    return {"id_type": case.id_type.value, "id_number": number, "name": case.deceased_name, "sex": case.sex.value,
            "birth_date": case.birth_date.isoformat(), "household_region": case.household_region,
            "death_at": china_isoformat(case.death_at), "death_certificate_no": case.death_certificate_no,
            "death_manner": case.death_manner.value, "cause_category": case.cause_category.value}


def deliver(journal: Journal, keys: TenantKeys, department: Department, *, url: str, signer: BatchSigner,
            client: httpx.Client, province: Province, actor: str, batch_size: int = 200) -> DeliveryReport:
    """Deliver every pending notice to the department, batch by batch; raises DeliveryError (what was
    acknowledged stays delivered). Nothing while the tenant is suspended (`report.paused`)."""
    report = DeliveryReport(department.key)
    engine = journal.engine
    with Session(engine) as session:
        report.through = delivered_seq(session, department.key)
    if tenant_status.read(engine).suspended:  # resumed from `through` after `fsp resume`, as the exchange is
        report.paused = True
        return report
    while True:
        after = report.through
        with Session(engine) as session:
            notices, last = notices_after(session, keys, department, after=after, limit=batch_size)
        if last is None:
            return report
        try:
            if notices:
                body = canonical({"province": province.slug, "province_code": province.code,
                                  "department": department.key, "first_seq": after + 1, "last_seq": last,
                                  "notices": notices})
                _post(client, url.rstrip("/") + NOTICES_PATH, body, signer, last)
            _advance(journal, department, after=after, through=last, notices=notices, actor=actor)
        except DeliveryError as exc:
            exc.report = report
            raise
        report.through = last
        if notices:
            report.notices += len(notices)
            report.batches += 1


def _post(client: httpx.Client, target: str, body: bytes, signer: BatchSigner, last: int) -> None:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signer.sign(body)}
    try:
        response = client.post(target, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError("unavailable", f"{target} unreachable: {type(exc).__name__}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError("unavailable", f"{target} answered {response.status_code}")
    if response.status_code != 200:
        raise DeliveryError("refused", f"{target} refused the batch ({response.status_code}): {response.text[:200]}")
    try:
        received = int(response.json()["received_through"])
    except (ValueError, KeyError, TypeError):
        raise DeliveryError("refused", f"{target} answered without received_through") from None
    if received != last:
        raise DeliveryError("refused", f"{target} received through {received}, not {last}")


def _advance(journal: Journal, department: Department, *, after: int, through: int, notices: list[dict],
             actor: str) -> None:
    """Move the cursor from `after` to `through`, auditing the disclosure; DeliveryError if another delivery
    moved it meanwhile. Only a move that discloses notices takes the write head (to record them)."""
    table = SharingCursor.__table__
    with Session(journal.engine) as session, journal.write(session, actor=actor,
                                                           claims=[f"sharing:{department.key}"]) as unit:
        connection = session.connection()
        seed = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
        connection.execute(seed.values(department=department.key, delivered_seq=0, updated_at=utcnow())
                           .on_conflict_do_nothing())
        moved = connection.execute(update(table).where(table.c.department == department.key,
                                                       table.c.delivered_seq == after)
                                   .values(delivered_seq=through, updated_at=utcnow())).rowcount
        if moved != 1:
            raise DeliveryError("concurrent", f"another delivery to {department.key} moved its cursor past {after}")
        if notices:  # a move past events of no interest to the department discloses nothing: no entry
            unit.record(action="sharing.deliver", object_type="department", object_id=department.key,
                        detail={"first_seq": after + 1, "last_seq": through, "people": len(notices),
                                "fields": list(department.fields)})


def pending(session: Session, department: str) -> tuple[int, int]:
    """(delivered through, notices waiting): the shared events after the department's cursor."""
    after = delivered_seq(session, department)
    events = session.exec(select(OutboxEvent.event_type, OutboxEvent.aggregate_id).where(  # not the payloads
        OutboxEvent.seq > after, col(OutboxEvent.event_type).in_(SHARED_EVENTS))).all()
    cases = _cases(session, events)
    waiting = sum(1 for event in events if (case := cases.get(uuid.UUID(event.aggregate_id))) is not None
                  and _shared(event.event_type, case))
    return after, waiting
