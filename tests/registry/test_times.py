"""One rule for times: every datetime the API (and the machine data it sends) returns is at +08:00, the same
string on write and on every read after it, whatever offset the caller wrote it with."""
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from factories import declare_case
from registry.db_types import CHINA_TIME_DESCRIPTION
from registry.exchange import outbound

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _times(value) -> list[str]:
    """Every date-time string inside a JSON value (nested payloads too)."""
    if isinstance(value, dict):
        return [time for item in value.values() for time in _times(item)]
    if isinstance(value, list):
        return [time for item in value for time in _times(item)]
    return [value] if isinstance(value, str) and TIME.match(value) else []


def _all_in_china_time(body) -> None:
    times = _times(body)
    assert times, f"no times in {body}"
    assert [t for t in times if not t.endswith("+08:00")] == [], body


@pytest.fixture
def reviewer(mint):
    return mint("reviewer")


def test_a_case_time_reads_back_as_written(client, registrar, funeral_home, reviewer):
    posted = declare_case(client, registrar, funeral_home["id"], death_at="2024-05-06T02:00:00Z")
    assert posted["death_at"] == "2024-05-06T10:00:00+08:00"
    _all_in_china_time(posted)
    read = client.get(f"/api/v1/cases/{posted['id']}", headers=reviewer).json()
    # only the times are compared: what else a reader sees of a case depends on its role
    assert {k: v for k, v in read.items() if k.endswith("_at")} == {k: v for k, v in posted.items() if k.endswith("_at")}


def test_institution_times_read_back_as_written(client, admin, funeral_home):
    _all_in_china_time(funeral_home)
    assert client.get(f"/api/v1/institutions/{funeral_home['id']}").json() == funeral_home
    listed = client.get("/api/v1/institutions").json()["data"]
    assert listed == [funeral_home]
    changed = client.patch(f"/api/v1/institutions/{funeral_home['id']}", json={"address": "石景山路1号"},
                           headers=admin).json()
    _all_in_china_time(changed)
    assert client.get(f"/api/v1/institutions/{funeral_home['id']}").json() == changed


def test_cremation_and_transport_times_read_back_as_written(client, registrar, funeral_home, reviewer):
    case = declare_case(client, registrar, funeral_home["id"])
    path = f"/api/v1/cases/{case['id']}"
    departed = datetime.now(UTC) - timedelta(hours=6)
    transport = client.post(f"{path}/transports", headers=registrar, json={
        "institution_id": funeral_home["id"], "from_address": "海淀区某医院太平间", "to_address": "本馆冷藏间",
        "vehicle_plate": "京A12345", "departed_at": departed.isoformat(),
        "arrived_at": (departed + timedelta(minutes=40)).isoformat()})
    assert transport.status_code == 201, transport.text
    _all_in_china_time(transport.json())
    assert client.get(f"{path}/transports", headers=registrar).json()["data"] == [transport.json()]

    assert client.post(f"{path}/register", headers=reviewer).status_code == 200
    started = departed + timedelta(hours=1)
    cremation = client.post(f"{path}/cremation", headers=registrar, json={
        "institution_id": funeral_home["id"], "started_at": started.isoformat(),
        "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01", "operator_name": "李师傅"})
    assert cremation.status_code == 201, cremation.text
    _all_in_china_time(cremation.json())
    assert client.get(f"{path}/cremation", headers=registrar).json() == cremation.json()


def test_outbox_audit_and_exchange_batch_carry_china_time(client, app, registrar, funeral_home, mint):
    case = declare_case(client, registrar, funeral_home["id"], death_at="2024-05-06T02:00:00+00:00")
    events = client.get("/api/v1/outbox", headers=mint("system-admin")).json()["data"]
    _all_in_china_time(events)
    declared = next(event for event in events if event["aggregate_id"] == case["id"])
    assert declared["payload"]["death_at"] == case["death_at"] == "2024-05-06T10:00:00+08:00"
    _all_in_china_time(client.get("/api/v1/audit", headers=mint("auditor")).json()["data"])

    # the batch the ministry receives: the event's time as the outbox API shows it
    body, taken = outbound.batch_body(outbound.unshipped(app.state.ctx.engine, limit=100), province="beijing",
                                      province_code="110000", max_bytes=10_000_000)
    wire = json.loads(body)["events"]
    assert [event["at"] for event in wire] == [event["at"] for event in events][:taken]


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _date_time_fields(schema: dict, components: dict, where: str, seen: set) -> list[tuple[str, dict]]:
    """(place, schema) of every date-time value reachable from a response schema."""
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return []
        seen.add(ref)
        where = ref.rsplit("/", 1)[-1]
    schema = _resolve(schema, components)
    found = [(where, schema)] if schema.get("format") == "date-time" else []
    children = [(f"{where}.{name}", prop) for name, prop in schema.get("properties", {}).items()]
    children += [(where, sub) for key in ("anyOf", "oneOf", "allOf") for sub in schema.get(key, [])]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            children.append((where, schema[key]))
    for place, child in children:
        found += _date_time_fields(child, components, place, seen)
    return found


def test_every_response_time_is_documented_as_china_time(app):
    spec = app.openapi()
    components = spec["components"]["schemas"]
    fields, seen = [], set()
    for operations in spec["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                for content in response.get("content", {}).values():
                    fields += _date_time_fields(content.get("schema", {}), components, "response", seen)
    places = {place for place, _ in fields}
    # the walk reaches the domains' times (a walk that found nothing would prove nothing)
    assert {"CasePublic.death_at", "ServiceItemPublic.created_at", "OutboxEventPublic.at",
            "AuditEntryPublic.at", "TransportPublic.departed_at", "CremationPublic.started_at"} <= places
    assert [place for place, schema in fields if schema.get("description") != CHINA_TIME_DESCRIPTION] == []
