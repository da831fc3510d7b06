"""Events as provinces ship them to the ministry (as their outboxes hold them), for tests of the national database,
its directory and its statistics; tests override what they are about."""
import uuid
from datetime import UTC, datetime

from factories import credit_code
from registry.exchange.models import Batch

CODES = {"beijing": "110000", "shandong": "370000", "yunnan": "530000"}
PERSON = "a" * 64


def case(case_id: uuid.UUID, **changes) -> dict:
    """A case event's payload as a province's outbox holds it: the masked case and the person's blind index."""
    return {"id": str(case_id), "status": "declared", "institution_id": str(uuid.UUID(int=7)),
            "deceased_name": "张三", "sex": "1", "ethnicity": "01", "id_type": "resident_id",
            "id_number": "110105************", "birth_date": "1931-03-01", "household_region": "110105",
            "death_at": "2026-10-01T10:00:00+08:00", "death_place_type": "hospital", "death_manner": "normal",
            "cause_category": "disease", "death_certificate_no": "A-1", "informant": {}, "archive_ref": None,
            "archived_at": None, "created_at": "2026-10-01T12:00:00+08:00",
            "updated_at": "2026-10-01T12:00:00+08:00", "person_ref": PERSON, **changes}


def batch(province: str, first: int, events: list[tuple[str, uuid.UUID, dict]]) -> Batch:
    """The province's events from seq `first` on: (event type, aggregate id, payload) each."""
    return Batch.model_validate({
        "province": province, "province_code": CODES[province], "first_seq": first,
        "last_seq": first + len(events) - 1,
        "events": [{"seq": first + i, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{province}/{first + i}")),
                    "at": datetime(2026, 10, 2, tzinfo=UTC).isoformat(), "event_type": kind,
                    "aggregate_type": kind.split(".")[0], "aggregate_id": str(case_id), "payload": payload}
                   for i, (kind, case_id, payload) in enumerate(events)]})


def cremation(case_id: uuid.UUID, **changes) -> dict:
    return {"id": str(uuid.uuid5(case_id, "cremation")), "case_id": str(case_id),
            "institution_id": str(uuid.UUID(int=7)), "started_at": "2026-10-02T09:00:00+08:00",
            "ended_at": "2026-10-02T10:15:00+08:00", "furnace_no": "F-03", "operator_name": "李师傅",
            "created_at": "2026-10-02T10:20:00+08:00", **changes}


def certificate(case_id: uuid.UUID, number: str, **changes) -> dict:
    return {"id": str(uuid.uuid5(case_id, number)), "case_id": str(case_id),
            "cremation_id": str(uuid.uuid5(case_id, "cremation")), "number": number, "status": "valid",
            "issued_at": "2026-10-02T11:00:00+08:00", "cancelled_at": None, "cancel_reason": None,
            "replaces_id": None, **changes}


def ashes(case_id: uuid.UUID, **changes) -> dict:
    return {"id": str(uuid.uuid5(case_id, "ashes")), "case_id": str(case_id), "destination": "public_cemetery",
            "institution_id": str(uuid.UUID(int=8)), "plot_or_niche": "A-3-12", "note": None,
            "recorded_at": "2026-10-03T09:00:00+08:00", **changes}


def interment(case_id: uuid.UUID, **changes) -> dict:
    return {"id": str(uuid.uuid5(case_id, "interment")), "case_id": str(case_id), "kind": "burial",
            "remains_form": "ashes", "institution_id": str(uuid.UUID(int=8)), "plot_or_niche": "A-3-12",
            "interred_at": "2026-10-04T09:00:00+08:00", "created_at": "2026-10-04T09:30:00+08:00", **changes}


def institution_event(institution_id: uuid.UUID, **changes) -> dict:
    """An `institution.created`/`updated` payload: the whole directory entry."""
    return {"id": str(institution_id), "name": "八宝山殡仪馆", "type": "funeral_home", "credit_code": credit_code(),
            "region_code": "110107", "address": "石景山区石景山路9号", "contact_name": "王主任",
            "contact_phone": "010-68800001", "licence_no": "京民殡许字第001号", "status": "active",
            "created_at": "2026-10-01T12:00:00+08:00", "updated_at": "2026-10-01T12:00:00+08:00", **changes}


def fee_event(item_id: uuid.UUID, institution_id: uuid.UUID, **changes) -> dict:
    """A `service_item.published`/`ended` payload: one price period as the public schedule shows it."""
    return {"id": str(item_id), "institution_id": str(institution_id), "name": "遗体火化", "category": "basic",
            "unit": "具", "price_fen": 48000, "pricing_basis": "government_set", "effective_from": "2024-01-01",
            "effective_to": None, "description": None, "created_at": "2026-10-01T12:00:00+08:00", **changes}


def disclosure_event(institution_id: uuid.UUID, **changes) -> dict:
    """An `institution_disclosure.published` payload."""
    return {"institution_id": str(institution_id), "opening_hours": "每日 8:00-17:00",
            "commitments": ["24小时接运遗体", "明码标价"], "supervising_authority": "石景山区民政局",
            "complaint_phone": "010-68870000", "updated_at": "2026-10-01T12:00:00+08:00", **changes}


def payload_batch(province: str, first: int, events: list[tuple[str, dict]]) -> dict:
    """The province's batch of `events` ((event type, payload) each) numbered from `first`."""
    return {"province": province, "province_code": CODES[province], "first_seq": first,
            "last_seq": first + len(events) - 1,
            "events": [{"seq": first + i, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{province}/{first + i}")),
                        "at": datetime(2026, 10, 2, tzinfo=UTC).isoformat(), "event_type": kind,
                        "aggregate_type": kind.split(".")[0], "aggregate_id": payload.get("id", "-"),
                        "payload": payload} for i, (kind, payload) in enumerate(events)]}
