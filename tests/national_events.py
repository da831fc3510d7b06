"""Events as provinces ship them to the ministry, for tests of the national database and its statistics."""
import uuid
from datetime import UTC, datetime

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
