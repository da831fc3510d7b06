"""Builders of valid request payloads; tests override only what they are about."""
import itertools
from datetime import UTC, date, datetime, timedelta, timezone

from stdnum.cn import ric, uscc

_counter = itertools.count(1)

# 八宝山殡仪馆-like defaults inside Beijing (110000)
BEIJING_REGION = "110107"


def resident_id(region: str = "110105", birth: date = date(1949, 12, 31), seq: int | None = None) -> str:
    """A checksum-valid GB 11643 ID number."""
    seq = next(_counter) % 1000 if seq is None else seq
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def credit_code(seq: int | None = None) -> str:
    """A checksum-valid GB 32100 unified social credit code."""
    seq = next(_counter) if seq is None else seq
    body = f"12110000{seq:09d}"
    return body + uscc.calc_check_digit(body)


def institution_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "name": f"北京市第{n}殡仪馆", "type": "funeral_home", "credit_code": credit_code(), "region_code": BEIJING_REGION,
        "address": f"石景山区石景山路{n}号", "contact_name": "王主任", "contact_phone": "010-68800000",
        "licence_no": f"BJ-{n:05d}",
    }
    payload.update(overrides)
    return payload


def case_payload(institution_id, **overrides) -> dict:
    n = next(_counter)
    birth = date(1930, 1, 1) + timedelta(days=n * 37 % 20000)
    payload = {
        "institution_id": str(institution_id), "deceased_name": f"测试逝者{n}", "sex": "1", "ethnicity": "01",
        "id_type": "resident_id", "id_number": resident_id(birth=birth, seq=n % 1000), "birth_date": birth.isoformat(),
        "household_region": "110105",
        "death_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "death_place_type": "hospital", "death_manner": "normal", "cause_category": "disease",
        "death_certificate_no": f"BJ-{n:08d}",
        "informant": {"name": "张家属", "relation": "子女", "phone": "13812345678"},
    }
    payload.update(overrides)
    return payload


def create_institution(client, headers, **overrides) -> dict:
    response = client.post("/api/v1/institutions", json=institution_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def declare_case(client, headers, institution_id, **overrides) -> dict:
    response = client.post("/api/v1/cases", json=case_payload(institution_id, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def publication_payload(**overrides) -> dict:
    """A service guide (办事指南) of Beijing's civil-affairs bureau, as a draft's request body."""
    n = next(_counter)
    payload = {
        "category": "guide", "title": f"遗体火化办理指南（第{n}版）", "document_number": f"京民殡发〔2026〕{n}号",
        "issuing_authority": "北京市民政局", "summary": "办理遗体火化需要的材料和流程。",
        "content": "一、办理条件\n凭死亡医学证明办理。\n\n二、所需材料\n1. 死亡医学证明；\n2. 经办人身份证件。",
        "effective_date": "2026-01-01",
    }
    payload.update(overrides)
    return payload


def create_publication(client, headers, *, publish: bool = False, **overrides) -> dict:
    """A draft through the API, published too when asked."""
    response = client.post("/api/v1/publications", json=publication_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    if publish:
        response = client.post(f"/api/v1/publications/{response.json()['id']}/publish", headers=headers)
        assert response.status_code == 200, response.text
    return response.json()


def facility_approval_payload(**overrides) -> dict:
    """A citizen's application to build a cemetery in Beijing (殡葬设施审批)."""
    facility = {"organisation_name": f"北京市某公墓管理处{next(_counter)}", "credit_code": credit_code(),
                "region_code": BEIJING_REGION, "facility_type": "cemetery", "change_kind": "build",
                "description": "新建生态公墓一处，占地约二十亩。"}
    facility.update(overrides)
    return {"kind": "facility", "facility": facility}


def transport_approval_payload(**overrides) -> dict:
    """A citizen's application to take remains from Beijing to Shanghai (遗体跨省运输), a week ahead."""
    transport = {"deceased_name": "张三", "id_type": "resident_id", "id_number": resident_id(),
                 "from_region": BEIJING_REGION, "from_place": "北京市海淀区某医院", "to_region": "310101",
                 "to_place": "上海市某殡仪馆", "planned_on": (date.today() + timedelta(days=7)).isoformat(),
                 "vehicle_plate": "京A12345", "escort_name": "李四", "escort_phone": "13800001234"}
    transport.update(overrides)
    return {"kind": "transport", "transport": transport}


def submit_approval(client, headers, payload: dict | None = None) -> dict:
    """An application through the API: the receipt, with the approval and its query code."""
    response = client.post("/api/v1/approvals", json=payload or facility_approval_payload(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
# reservations: a resource open every day 08:00-17:00 in one-hour slots, and bookings of it
def resource_payload(**overrides) -> dict:
    payload = {"name": f"守灵厅{next(_counter)}", "kind": "farewell_hall", "capacity": 2, "slot_minutes": 60,
               "opens_at": "08:00", "closes_at": "17:00", "weekdays": "1234567", "advance_days": 30}
    payload.update(overrides)
    return payload


def slot_start(days: int = 1, hour: int = 9) -> str:
    """A slot of the resource_payload grid, `days` from today in China."""
    china = timezone(timedelta(hours=8))
    day = datetime.now(china).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=china).isoformat()


def booking_payload(resource_id, **overrides) -> dict:
    payload = {"resource_id": str(resource_id), "starts_at": slot_start(), "for_name": "张三丰", "for_phone": "13812345678"}
    payload.update(overrides)
    return payload


def create_resource(client, headers, institution_id, **overrides) -> dict:
    response = client.post(f"/api/v1/institutions/{institution_id}/resources", json=resource_payload(**overrides),
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def remote_farewell_payload(days: int = 1, hour: int = 9, **overrides) -> dict:
    """A remote farewell during the booking of `slot_start(days, hour)`, two relatives invited."""
    start = datetime.fromisoformat(slot_start(days, hour))
    payload = {"join_link": "https://meeting.example.cn/j/8812345", "starts_at": start.isoformat(),
               "ends_at": (start + timedelta(minutes=45)).isoformat(),
               "invitees": [{"name": "李四", "phone": "13900001111"}, {"name": "王五", "phone": "13700002222"}]}
    payload.update(overrides)
    return payload
