"""Builders of the events a province ships to the ministry, as its outbox holds them; tests override what they
are about."""
import uuid
from datetime import UTC, datetime

from factories import credit_code

PROVINCE_CODES = {"beijing": "110000", "shandong": "370000", "yunnan": "530000"}


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


def batch(province: str, first: int, events: list[tuple[str, dict]]) -> dict:
    """The province's batch of `events` ((event type, payload) each) numbered from `first`."""
    return {"province": province, "province_code": PROVINCE_CODES[province], "first_seq": first,
            "last_seq": first + len(events) - 1,
            "events": [{"seq": first + i, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{province}/{first + i}")),
                        "at": datetime(2026, 10, 2, tzinfo=UTC).isoformat(), "event_type": kind,
                        "aggregate_type": kind.split(".")[0], "aggregate_id": payload.get("id", "-"),
                        "payload": payload} for i, (kind, payload) in enumerate(events)]}
