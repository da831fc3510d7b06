"""Archive backfill at database speed (历史数据补录, bulk): thousands of archived cases per request, set-wise.

Each record is checked with the rules of a declaration (`archive.checked`: the declaration's own validators)
and answered as the per-record import answers it: created, already present (a re-run or a resumed run changes
nothing), or refused with its errors. What differs is how: the registry is asked about the whole batch in a few
queries (archive numbers, ID numbers, same person), and the accepted cases, their `case.imported` events and
one audit entry for the batch are written set-wise (`registry.bulk_insert`: COPY on PostgreSQL).

The batch's audit entry lists every case it created with its archive number and record hash (SM3 of the stored
columns), so `prove` can show that a case is the one imported, from an entry of the intact audit chain.
"""
import functools
import gc
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry import bulk_insert, messages
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.cases import archive, declarations, duplicates
from registry.cases.access import check_institution_active, check_institution_binding
from registry.cases.declarations import Declaration
from registry.cases.fields import event_payload_text
from registry.cases.models import ArchiveRecordResult, BulkImportResult, Case, ImportOutcome, ImportProof
from registry.context import TenantContext
from registry.db_types import new_id
from registry.errors import DomainError, Invalid, NotFound
from registry.institutions.models import Institution
from registry.journal import Write
from registry.security.auth import Principal
from registry.security.crypto import sm3_hex

ACTION = "case.import_batch"
# what a record hash covers: the stored facts as imported (status and timestamps change with the case's life)
_HASHED = tuple(c.name for c in Case.__table__.columns if c.name not in {"status", "created_at", "updated_at",
                                                                          "archived_at"})


@functools.cache
def _lookups(dialect: str) -> dict:
    """The batch's set-wise lookups, for the connection's dialect (`bulk_insert.one_of`)."""
    def one_of(column, name):
        return bulk_insert.one_of(column, name, dialect)
    return {
        "archive_refs": sa_select(Case.archive_ref, Case.id, Case.id_number_index, Case.deceased_name,
                                  Case.birth_date).where(one_of(Case.archive_ref, "refs")),
        "indexes": sa_select(Case.id_number_index, Case.id).where(one_of(Case.id_number_index, "keys")),
        "people": sa_select(Case.deceased_name, Case.birth_date, Case.death_at, Case.id)
        .where(one_of(Case.deceased_name, "names"), one_of(Case.birth_date, "births")),
        "institutions": sa_select(Institution.id, Institution.status).where(one_of(Institution.id, "ids")),
    }

def import_batch(session: Session, *, ctx: TenantContext, principal: Principal, records: list[dict],
                 dry_run: bool = False, language: str = messages.ZH) -> BulkImportResult:
    """Check every record and write those that pass in one unit of write (unless `dry_run`, which writes
    nothing); the counts and the refused records with their errors worded in `language`."""
    with _collector_paused():
        return _import_batch(session, ctx=ctx, principal=principal, records=records, dry_run=dry_run,
                             language=language)


@contextmanager
def _collector_paused():
    """The cycle collector waits until the batch is done: a batch makes thousands of objects that live until its
    end, and each collection on the way would walk all of them and the whole app again (a sixth of a batch's
    time). Nothing of a batch needs it; what others make meanwhile is collected when it resumes."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _import_batch(session: Session, *, ctx: TenantContext, principal: Principal, records: list[dict],
                  dry_run: bool, language: str) -> BulkImportResult:
    rejects: list[ArchiveRecordResult] = []
    candidates: list[tuple[int, Declaration]] = []
    for index, record in enumerate(records):
        outcome = archive.checked(ctx, principal, index, record)
        if isinstance(outcome, ArchiveRecordResult):
            rejects.append(outcome)
        else:
            candidates.append((index, outcome))
    if dry_run:
        accepted, present = _screen(session, candidates, rejects)
        session.rollback()
    else:
        # the natural keys, as declarations claim them: a declaration of the same person waits, never deadlocks
        claims = [*declarations.claims(ctx, [d for _, d in candidates]),
                  *(f"case-archive:{d.row['archive_ref']}" for _, d in candidates)]
        with ctx.journal.write(session, actor=principal.subject, claims=claims) as unit:
            accepted, present = _screen(session, candidates, rejects)
            _write(session, unit, accepted, rejects)
        ctx.metrics.cases_imported.inc(len(accepted))
    rejects.sort(key=lambda result: result.index)
    return BulkImportResult(dry_run=dry_run, created=len(accepted), already_present=present, refused=len(rejects),
                            rejects=[archive.worded(result, language) for result in rejects])


class _Known:
    """The cases a record may duplicate: those of the registry, then those accepted earlier in the batch."""

    def __init__(self, connection, lookups: dict, declarations: list[Declaration]):
        indexes = sorted({d.index for d in declarations if d.index})
        self.by_index: dict[str, uuid.UUID] = dict(connection.execute(lookups["indexes"],
                                                                      {"keys": indexes or [""]}).all())
        self.people: dict[tuple[str, date], list[tuple[datetime, uuid.UUID]]] = defaultdict(list)
        names = sorted({d.data.deceased_name for d in declarations})
        births = sorted({d.data.birth_date for d in declarations})
        if names:
            for name, birth, death_at, case_id in connection.execute(lookups["people"], {"names": names,
                                                                                       "births": births}):
                self.people[(name, birth)].append((death_at, case_id))

    def duplicate(self, declaration: Declaration) -> tuple[uuid.UUID, str] | None:
        """The rules of `duplicates.find`: the same ID number, else the same person with deaths close together."""
        if declaration.index and declaration.index in self.by_index:
            return self.by_index[declaration.index], "id_number"
        facts = declaration.data
        for death_at, case_id in self.people.get((facts.deceased_name, facts.birth_date), ()):
            if abs(death_at - facts.death_at) <= duplicates.WINDOW:
                return case_id, "name_birth_death"
        return None

    def add(self, declaration: Declaration) -> None:
        if declaration.index:
            self.by_index[declaration.index] = declaration.row["id"]
        facts = declaration.data
        self.people[(facts.deceased_name, facts.birth_date)].append((facts.death_at, declaration.row["id"]))


def _screen(session: Session, candidates: list[tuple[int, Declaration]],
            rejects: list[ArchiveRecordResult]) -> tuple[list[Declaration], int]:
    """The candidates to write and how many were imported before; the refused ones are added to `rejects`."""
    connection = session.connection()
    lookups = _lookups(connection.dialect.name)
    refs = [d.row["archive_ref"] for _, d in candidates]
    stored = {row.archive_ref: row for row in connection.execute(lookups["archive_refs"], {"refs": refs or [""]})}
    institution_ids = sorted({d.data.institution_id for _, d in candidates}, key=str)
    institutions = dict(connection.execute(lookups["institutions"],
                                           {"ids": institution_ids or [uuid.UUID(int=0)]}).all())
    fresh = [(i, d) for i, d in candidates if d.row["archive_ref"] not in stored]
    known = _Known(connection, lookups, [d for _, d in fresh])
    accepted: list[Declaration] = []
    present = 0
    first_of: dict[str, int] = {}
    for index, declaration in candidates:
        ref = declaration.row["archive_ref"]
        if ref in first_of:
            rejects.append(archive.refused(index, ref, [{
                "field": "archive_ref", "rule": "archive_ref_repeated",
                "message": f"record {first_of[ref]} of this import has the same archive_ref"}]))
            continue
        first_of[ref] = index
        if ref in stored:
            result = archive.already_imported(index, declaration, stored[ref])
            if result.outcome == ImportOutcome.refused:
                rejects.append(result)
            else:
                present += 1
            continue
        institution_id = declaration.data.institution_id
        try:
            if institution_id not in institutions:
                raise Invalid("institution_id", "exists", f"institution {institution_id} does not exist")
            check_institution_binding(declaration.principal, institution_id)
            check_institution_active(declaration.principal, institution_id, institutions[institution_id])
            duplicates.refuse_found(known.duplicate(declaration))
        except DomainError as refusal:
            rejects.append(archive.refused(index, ref, [p.as_dict() for p in refusal.problems]))
            continue
        known.add(declaration)
        accepted.append(declaration)
    return accepted, present


def _write(session: Session, unit: Write, accepted: list[Declaration], rejects: list[ArchiveRecordResult]) -> None:
    """The cases, an event each, and the batch's audit entries (created; refused), set-wise."""
    batch_id = new_id()
    if accepted:
        bulk_insert.insert_rows(session.connection(), Case.__table__, [d.row for d in accepted])
        unit.record_events(event_type="case.imported", aggregate_type="case",
                           events=[(d.row["id"], event_payload_text(d.public, d.person_ref)) for d in accepted])
        unit.record(action=ACTION, object_type="case_import", object_id=batch_id, detail={
            "records": [[str(d.row["id"]), d.row["archive_ref"], record_hash(d.row)] for d in accepted]})
    if rejects:
        # no personal data in the audit trail: the archive number (or position) and the rules broken
        unit.record(action=ACTION, object_type="case_import", object_id=batch_id, result=audit.REFUSED, detail={
            "refused": [{"record": r.archive_ref or f"#{r.index}",
                         "errors": [{k: e.get(k) for k in ("field", "rule")} for e in r.errors]} for r in rejects]})


def record_hash(row: dict) -> str:
    """SM3 of a case's stored facts (ciphertexts, blind index and masks included), in one canonical form."""
    converters = _CONVERTERS
    values = []
    for name in _HASHED:
        value = row[name]
        kind = type(value)
        convert = converters[kind] if kind in converters else converters.setdefault(kind, _converter(kind))
        values.append(value if convert is None else convert(value))
    return sm3_hex(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())


# the canonical form of a value, by its type (found once per type: a batch hashes thousands of rows)
_CONVERTERS: dict[type, Callable[[Any], Any] | None] = {}


def _converter(kind: type) -> Callable[[Any], Any] | None:
    if issubclass(kind, Enum):
        return lambda value: value.value
    if issubclass(kind, datetime):
        return lambda value: value.astimezone(UTC).isoformat(timespec="microseconds")
    if issubclass(kind, date | uuid.UUID):
        return str
    return None


def prove(session: Session, *, ctx: TenantContext, case_id: uuid.UUID) -> ImportProof:
    """Whether the case is what a bulk import wrote: its batch's audit entry (still intact and sealed) names it
    with the hash of its stored facts, and they still hash to that (a later correction changes them)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case_id", f"case {case_id} does not exist")
    needle = f'"{case_id}"'
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == ACTION, AuditEntry.result == audit.OK,
                                                    col(AuditEntry.detail).contains(needle))).all()
    for entry in entries:
        recorded = {ref_id: (ref, digest) for ref_id, ref, digest in json.loads(entry.detail)["records"]}
        if str(case_id) in recorded:
            ref, digest = recorded[str(case_id)]
            return ImportProof(case_id=case_id, archive_ref=ref, audit_seq=entry.seq, imported_by=entry.actor,
                               imported_at=entry.at, record_hash=digest,
                               entry_intact=audit.entry_intact(entry, anchor=ctx.journal.anchor),
                               unchanged=record_hash(case.model_dump()) == digest)
    raise Invalid("case_id", "bulk_imported", f"case {case_id} was not written by a bulk import")
