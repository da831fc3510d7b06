"""Record what happens to the remains and the ashes of a case; every write is audited and published."""
import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from registry.cases import access
from registry.cases import service as cases
from registry.cases.models import Case, CaseStatus
from registry.context import TenantContext
from registry.db_types import china_isoformat
from registry.errors import Conflict, Invalid, NotFound
from registry.institutions import service as institutions
from registry.institutions.models import Institution, InstitutionStatus, InstitutionType
from registry.journal import Write
from registry.remains.models import (
    INTERMENT_TYPES,
    RECEIVING_TYPES,
    STORAGE_TYPES,
    TRANSPORT_TYPES,
    AshesDestination,
    AshesDestinationCreate,
    AshesDestinationPublic,
    Handover,
    Interment,
    IntermentCreate,
    IntermentPublic,
    RemainsForm,
    Storage,
    StorageCreate,
    StoragePublic,
    StorageRelease,
    Transport,
    TransportCreate,
    TransportPublic,
)
from registry.security.auth import Principal
from registry.security.permissions import INSTITUTION_BOUND

# ashes exist only once the case is cremated
ASHES_STATUSES = frozenset({CaseStatus.cremated, CaseStatus.closed})


def _institution(session: Session, institution_id: uuid.UUID, *, allowed: frozenset[InstitutionType],
                 purpose: str, worker: Principal | None = None, receiving: bool = False) -> Institution:
    """An institution named in the body: 422 if it does not exist or cannot do the work (or, `receiving` the
    remains or ashes, is not active); with `worker`, 403 unless that principal may work for it."""
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise Invalid("institution_id", "exists", f"institution {institution_id} does not exist")
    if worker is not None:
        access.check_institution_binding(worker, institution_id)
    institutions.require_type(institution, allowed=allowed, field="institution_id", purpose=purpose)
    if receiving and institution.status != InstitutionStatus.active:
        raise Invalid("institution_id", "institution_active",
                      f"institution {institution_id} is {institution.status.value} and receives nothing")
    return institution


def _require_not_archived(case: Case) -> None:
    if case.archived_at is not None:
        raise Conflict("case_id", "archived", f"case {case.id} is archived")


def _require_open(case: Case, work: str) -> None:
    """Remains are handled only while the case is still open."""
    _require_not_archived(case)
    if case.status == CaseStatus.closed:
        raise Conflict("status", "status_flow", f"case {case.id} is closed; {work} needs an open case")


def _require_ashes(case: Case, work: str) -> None:
    _require_not_archived(case)
    if case.status not in ASHES_STATUSES:
        raise Conflict("status", "status_flow", f"case {case.id} is {case.status.value}; {work} needs a cremated "
                                                f"or closed case")


def _after_death(case: Case, at: datetime, field: str) -> None:
    if at < case.death_at:
        raise Invalid(field, "after_death", f"{field} is before the death of the deceased")


def _case_for_interment(session: Session, principal: Principal, case_id: uuid.UUID, place_id: uuid.UUID) -> Case:
    """The case, for its own institution or for the institution its ashes were handed over to, which records
    interments at its own place only."""
    case = access.get_visible_case(session, principal=principal, case_id=case_id)
    if principal.roles & INSTITUTION_BOUND and principal.institution_id != case.institution_id:
        access.check_institution_binding(principal, place_id)  # visible, yet not its own: a hand-over
    access.require_active_institution(session, principal)
    return case


def _recorded(unit: Write, *, kind: str, action: str, event: str, row, public) -> None:
    unit.record(action=f"{kind}.{action}", object_type=kind, object_id=row.id, event_type=f"{kind}.{event}",
                payload=public.model_validate(row).model_dump(mode="json"))


# ---- 遗体接运

def record_transport(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID, data: TransportCreate) -> Transport:
    """Record a remains transport by a funeral home or service station of an open case."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        _institution(session, data.institution_id, allowed=TRANSPORT_TYPES, purpose="remains transport", worker=principal)
        _require_open(case, "remains transport")
        _after_death(case, data.departed_at, "departed_at")
        transport = Transport(case_id=case.id, **data.model_dump())
        session.add(transport)
        _recorded(unit, kind="transport", action="record", event="recorded", row=transport,
                 public=TransportPublic)
    return transport


def list_transports(session: Session, *, principal: Principal, case_id: uuid.UUID) -> list[Transport]:
    """Transports of a visible case, in the order they departed."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    return list(session.exec(select(Transport).where(Transport.case_id == case_id)
                             .order_by(col(Transport.departed_at))))


# ---- 遗体存放

def record_storage(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID, data: StorageCreate) -> Storage:
    """Put the remains of an open case in a funeral home's cabinet; one body per cabinet, one cabinet per body."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        _institution(session, data.institution_id, allowed=STORAGE_TYPES, purpose="remains storage", worker=principal)
        _require_open(case, "remains storage")
        _after_death(case, data.stored_at, "stored_at")
        unreleased = select(Storage).where(col(Storage.released_at).is_(None))
        current = session.exec(unreleased.where(Storage.case_id == case.id)).first()
        if current is not None:
            raise Conflict("case_id", "already_stored", f"the remains are still in cabinet {current.cabinet_no} "
                                                        f"(storage {current.id}); release them first",
                           existing_id=str(current.id))
        occupant = session.exec(unreleased.where(Storage.institution_id == data.institution_id,
                                                 Storage.cabinet_no == data.cabinet_no)).first()
        if occupant is not None:
            raise Conflict("cabinet_no", "cabinet_occupied", f"cabinet {data.cabinet_no} is occupied",
                           existing_id=str(occupant.id))
        storage = Storage(case_id=case.id, **data.model_dump())
        session.add(storage)
        _recorded(unit, kind="storage", action="record", event="recorded", row=storage,
                 public=StoragePublic)
    return storage


def list_storages(session: Session, *, principal: Principal, case_id: uuid.UUID) -> list[Storage]:
    """Storages of a visible case, in the order they began."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    return list(session.exec(select(Storage).where(Storage.case_id == case_id).order_by(col(Storage.stored_at))))


def release_storage(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID, storage_id: uuid.UUID,
                    data: StorageRelease) -> Storage:
    """Take the remains out of storage; a storage is released once."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        storage = session.get(Storage, storage_id)
        if storage is None or storage.case_id != case.id:
            raise NotFound("storage_id", f"storage {storage_id} of case {case_id} not found")
        access.check_institution_binding(principal, storage.institution_id)
        _require_not_archived(case)
        if storage.released_at is not None:
            raise Conflict("storage_id", "already_released",
                           f"storage {storage.id} was released at {china_isoformat(storage.released_at)}")
        if data.released_at < storage.stored_at:
            raise Invalid("released_at", "date_order", "released_at must not be before stored_at")
        storage.released_at = data.released_at
        session.add(storage)
        _recorded(unit, kind="storage", action="release", event="released", row=storage,
                 public=StoragePublic)
    return storage


# ---- 骨灰去向

def record_ashes_destination(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                             data: AshesDestinationCreate) -> AshesDestination:
    """Record where the ashes of a cremated case went; once per case, by the case's institution. A cemetery or
    columbarium it names is handed the case over (`Handover`): its registrars may then read the case and record
    the interment there."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        if data.institution_id is not None:
            allowed = RECEIVING_TYPES.get(data.destination, frozenset(InstitutionType))
            _institution(session, data.institution_id, allowed=allowed, purpose=f"destination {data.destination.value}",
                         receiving=data.destination in RECEIVING_TYPES)
        existing = session.exec(select(AshesDestination).where(AshesDestination.case_id == case.id)).first()
        if existing is not None:
            raise Conflict("case_id", "unique", f"case {case.id} already has ashes destination {existing.id}",
                           existing_id=str(existing.id))
        _require_ashes(case, "an ashes destination")
        destination = AshesDestination(case_id=case.id, **data.model_dump())
        session.add(destination)
        if data.destination in RECEIVING_TYPES and data.institution_id != case.institution_id:
            _hand_over(session, unit, case=case, destination=destination)
        _recorded(unit, kind="ashes_destination", action="record", event="recorded", row=destination,
                 public=AshesDestinationPublic)
    return destination


def _hand_over(session: Session, unit: Write, *, case: Case, destination: AshesDestination) -> None:
    """Hand the case over to the institution receiving its ashes; audited on its own (no event: the destination's
    event carries the receiving institution)."""
    handover = Handover(case_id=case.id, ashes_destination_id=destination.id, from_institution_id=case.institution_id,
                        to_institution_id=destination.institution_id)
    session.add(handover)
    unit.record(action="case.hand_over", object_type="case", object_id=case.id,
                detail={"handover_id": str(handover.id), "to_institution_id": str(handover.to_institution_id)})


def get_handover(session: Session, *, principal: Principal, case_id: uuid.UUID) -> Handover:
    """The hand-over of a visible case, or NotFound."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    handover = session.exec(select(Handover).where(Handover.case_id == case_id)).first()
    if handover is None:
        raise NotFound("handover", f"case {case_id} has not been handed over")
    return handover


def get_ashes_destination(session: Session, *, principal: Principal, case_id: uuid.UUID) -> AshesDestination:
    """The ashes destination of a visible case, or NotFound."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    destination = session.exec(select(AshesDestination).where(AshesDestination.case_id == case_id)).first()
    if destination is None:
        raise NotFound("ashes_destination", f"no ashes destination recorded for case {case_id}")
    return destination


# ---- 安葬 / 安放

def record_interment(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID, data: IntermentCreate) -> Interment:
    """Record a burial or placement, once per case and once per plot or niche; burying a body moves a registered
    case to buried. By the case's institution, or by the one its ashes were handed over to."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = _case_for_interment(session, principal, case_id, data.institution_id)
        _institution(session, data.institution_id, allowed=INTERMENT_TYPES[data.kind], purpose=data.kind.value,
                     receiving=True)
        _after_death(case, data.interred_at, "interred_at")
        if data.remains_form == RemainsForm.body:
            cases.move_status(session, unit, case=case, allowed_from={CaseStatus.registered},
                              to=CaseStatus.buried, action="bury")
        else:
            _require_ashes(case, "interring ashes")
        _refuse_second_interment(session, case, data)
        interment = Interment(case_id=case.id, **data.model_dump())
        session.add(interment)
        _recorded(unit, kind="interment", action="record", event="recorded", row=interment,
                 public=IntermentPublic)
    return interment


def _refuse_second_interment(session: Session, case: Case, data: IntermentCreate) -> None:
    """One interment per case, one case per plot or niche (unique indexes back both against races)."""
    earlier = session.exec(select(Interment).where(Interment.case_id == case.id)).first()
    if earlier is not None:
        raise Conflict("case_id", "already_interred", f"case {case.id} is already interred in {earlier.plot_or_niche} "
                                                      f"(interment {earlier.id})", existing_id=str(earlier.id))
    occupied = select(Interment.id).where(Interment.institution_id == data.institution_id,
                                          Interment.plot_or_niche == data.plot_or_niche)
    if session.exec(occupied).first() is not None:
        # another case, possibly of another institution: nothing about it is named
        raise Conflict("plot_or_niche", "plot_occupied",
                       f"{data.plot_or_niche} of institution {data.institution_id} already holds another case")


def list_interments(session: Session, *, principal: Principal, case_id: uuid.UUID) -> list[Interment]:
    """Interments of a visible case, oldest first."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    return list(session.exec(select(Interment).where(Interment.case_id == case_id)
                             .order_by(col(Interment.interred_at))))
