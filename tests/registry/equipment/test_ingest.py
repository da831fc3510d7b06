"""Devices push readings with their own credential: each reading is checked, the refused ones counted by reason,
the accepted ones kept with the device's newest values, which /metrics shows per institution and device."""
import math
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from assertions import assert_problem, count
from factories import create_institution, reading, register_device
from registry.equipment import ingest
from registry.equipment.models import LatestReading, Reading, ReadingIn


@pytest.fixture
def home(client, admin):
    return create_institution(client, admin)


def push(client, device, headers, readings):
    return client.post(f"/api/v1/devices/{device['id']}/readings", json={"readings": readings}, headers=headers)


def samples(client) -> dict[tuple[str, tuple], float]:
    """Every equipment sample on /metrics: (name, sorted labels) → value."""
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name.startswith("fsp_equipment_"):
                found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_readings_become_newest_values_and_series_per_institution_and_device(client, admin, home):
    device, credential = register_device(client, admin, home["id"])
    readings = [reading(1, "temperature_c", 820, minutes_ago=3), reading(2, "temperature_c", 861.5, minutes_ago=2),
                reading(3, "running", 1), reading(4, "door_open", 0), reading(5, "cycle_start", 1, cycle="C-7")]

    response = push(client, device, credential, readings)

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 5, "refused": {"out_of_range": 0, "replayed": 0, "too_old": 0,
                                                          "unknown_metric": 0, "missing_cycle": 0}}
    shown = client.get(f"/api/v1/devices/{device['id']}", headers=admin).json()
    assert {v["metric"]: v["value"] for v in shown["latest"]} == {
        "temperature_c": 861.5, "running": 1, "door_open": 0, "cycle_start": 1}
    labels = (("device", device["id"]), ("institution", home["id"]), ("kind", "cremator"))
    series = samples(client)
    assert series["fsp_equipment_temperature_celsius", labels] == 861.5
    assert series["fsp_equipment_temperature_max_celsius", labels] == 1100
    assert series["fsp_equipment_cycle_max_seconds", labels] == 90 * 60
    assert (series["fsp_equipment_running", labels], series["fsp_equipment_door_open", labels]) == (1, 0)
    started = datetime.fromisoformat(readings[4]["at"]).timestamp()
    assert series["fsp_equipment_cycle_started_timestamp_seconds", labels] == pytest.approx(started)
    assert series["fsp_equipment_last_reading_timestamp_seconds", labels] == pytest.approx(started)
    assert series["fsp_equipment_readings_total", (("kind", "cremator"),)] == 5

    push(client, device, credential, [reading(6, "cycle_end", 1, cycle="C-7")])
    assert samples(client)["fsp_equipment_cycle_started_timestamp_seconds", labels] == 0


def test_an_emission_monitor_shows_its_emission_and_limit(client, admin, home):
    device, credential = register_device(client, admin, home["id"], "emission_monitor")

    push(client, device, credential, [reading(1, "emission_mg_m3", 12.5)])

    labels = (("device", device["id"]), ("institution", home["id"]), ("kind", "emission_monitor"))
    series = samples(client)
    assert (series["fsp_equipment_emission_mg_m3", labels], series["fsp_equipment_emission_max_mg_m3", labels]) == (12.5, 30)


def test_refused_readings_are_counted_by_reason_and_the_rest_kept(client, session, admin, home):
    device, credential = register_device(client, admin, home["id"])
    push(client, device, credential, [reading(10)])

    response = push(client, device, credential, [
        reading(11, "temperature_c", 1500), reading(12, "emission_mg_m3", -1),  # out of physical range
        reading(10), reading(3),  # replayed: at or below the highest seq accepted
        reading(13, minutes_ago=25 * 60), reading(14, minutes_ago=-10),  # too old, or too far ahead
        {**reading(18), "at": "9999-12-31T23:59:59-12:00"},  # beyond any UTC time
        reading(15, "humidity", 40), reading(16, "cycle_start", 1),  # unknown metric, a cycle without its id
        reading(17, "temperature_c", 900), reading(17, "temperature_c", 901),  # the second 17 is a replay
    ])

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "refused": {"out_of_range": 2, "replayed": 3, "too_old": 3,
                                                          "unknown_metric": 1, "missing_cycle": 1}}
    assert [r.seq for r in session.exec(select(Reading).order_by(Reading.seq))] == [10, 17]
    assert session.exec(select(LatestReading)).one().value == 900
    series = samples(client)
    for reason, n in {"out_of_range": 2, "replayed": 3, "too_old": 3, "unknown_metric": 1, "missing_cycle": 1}.items():
        assert series["fsp_equipment_readings_refused_total", (("reason", reason),)] == n


def test_a_devices_credential_writes_for_that_device_only(client, session, admin, home):
    a, credential_a = register_device(client, admin, home["id"])
    b, _ = register_device(client, admin, home["id"], "cold_storage")

    forged = push(client, b, credential_a, [reading(1, "temperature_c", 3)])
    unknown = push(client, {"id": str(uuid.uuid4())}, credential_a, [reading(1)])
    bearer = push(client, a, admin, [reading(1)])
    missing = push(client, a, {}, [reading(1)])

    for response in (forged, unknown, bearer, missing):
        assert_problem(response, 401, "authorization", "device_credential")
    assert count(session, Reading) == 0
    assert samples(client)["fsp_equipment_readings_refused_total", (("reason", "unauthorized"),)] == 4


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"readings": []}, "readings", "too_short"),
    ({"readings": [reading(n) for n in range(501)]}, "readings", "too_long"),
    ({"readings": [{**reading(1), "at": "2026-11-30T10:00:00"}]}, "readings.0.at", "timezone_aware"),
    ({"readings": [{**reading(1), "seq": -1}]}, "readings.0.seq", "greater_than_equal"),
    ({"readings": [{**reading(1), "value": "hot"}]}, "readings.0.value", "float_parsing"),
    ({"readings": [reading(1, "cycle_start", 1, cycle="C 1")]}, "readings.0.cycle", "string_pattern_mismatch"),
])
def test_a_malformed_batch_is_refused_whole(client, session, admin, home, body, field, rule):
    device, credential = register_device(client, admin, home["id"])

    assert_problem(client.post(f"/api/v1/devices/{device['id']}/readings", json=body, headers=credential), 422, field, rule)
    assert count(session, Reading) == 0


def test_the_bridge_calls_the_same_ingest_in_process(app, client, session, admin, home):
    device, credential = register_device(client, admin, home["id"], "cold_storage")
    now = datetime.now(UTC)
    readings = [ReadingIn(seq=1, at=now, metric="temperature_c", value=2.5),
                {"seq": 2, "at": now.isoformat(), "metric": "temperature_c", "value": math.nan}]

    result = ingest.ingest(app.state.ctx, session, device_id=uuid.UUID(device["id"]),
                           credential=credential["Authorization"].removeprefix("Device "), readings=readings, now=now)

    assert (result.accepted, result.refused["out_of_range"]) == (1, 1)
    with pytest.raises(ingest.DeviceUnauthorized):
        ingest.ingest(app.state.ctx, session, device_id=uuid.UUID(device["id"]), credential="fspd_wrong",
                      readings=readings, now=now)
