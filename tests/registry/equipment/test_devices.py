"""An institution's staff register, watch, rotate and revoke its devices; each write audited, the credential
shown once and kept only as a digest."""
import uuid

import pytest
from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import create_institution, device_payload, reading, register_device
from registry.equipment.models import Device


@pytest.fixture
def home(client, admin):
    return create_institution(client, admin)


@pytest.fixture
def registrar(mint, home):
    return mint("registrar", institution_id=uuid.UUID(home["id"]), subject="registrar-1")


def test_registration_shows_the_credential_once_and_keeps_only_its_digest(client, session, registrar, home):
    response = client.post(f"/api/v1/institutions/{home['id']}/devices", json=device_payload(), headers=registrar)

    assert response.status_code == 201, response.text
    body = response.json()
    device, credential = body["device"], body["credential"]
    assert (device["kind"], device["status"], device["institution_id"]) == ("cremator", "active", home["id"])
    assert device["limits"] == {"temperature_max_c": 1100, "cycle_max_minutes": 90, "emission_max_mg_m3": None}
    shown = client.get(f"/api/v1/devices/{device['id']}", headers=registrar).text
    listed = client.get(f"/api/v1/institutions/{home['id']}/devices", headers=registrar)
    assert credential not in shown and credential not in listed.text
    assert [d["id"] for d in listed.json()["data"]] == [device["id"]]
    stored = session.exec(select(Device)).one()
    assert credential not in stored.credential_digest and len(stored.credential_digest) == 64
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id) == ("registrar-1", "device.register", device["id"])
    assert credential not in str(entry.detail)


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"kind": "cold_storage", "limits": {"cycle_max_minutes": 60}}, "limits.cycle_max_minutes", "limit_of_kind"),
    ({"kind": "furnace"}, "kind", "enum"),
    ({"limits": {"temperature_max_c": 5000}}, "limits.temperature_max_c", "less_than_equal"),
    ({"model": ""}, "model", "string_too_short"),
])
def test_a_bad_registration_is_refused_beside_its_field_and_writes_nothing(client, session, registrar, home, change,
                                                                            field, rule):
    before = snapshot(session, Device)

    response = client.post(f"/api/v1/institutions/{home['id']}/devices", json={**device_payload(), **change},
                           headers=registrar)

    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Device)


def test_a_registrar_manages_only_its_own_institutions_devices(client, session, admin, registrar):
    other = create_institution(client, admin)
    device, _ = register_device(client, admin, other["id"])
    before = snapshot(session, Device)

    registered = client.post(f"/api/v1/institutions/{other['id']}/devices", json=device_payload(), headers=registrar)
    revoked = client.post(f"/api/v1/devices/{device['id']}/revoke", headers=registrar)

    assert_problem(registered, 403, "institution_id", "institution_binding")
    assert_problem(revoked, 403, "device_id", "institution_binding")
    assert session.get(Device, uuid.UUID(device["id"])).status == "active"
    assert snapshot(session, Device)[Device] == before[Device]


def test_rotation_kills_the_old_credential(client, session, registrar, home):
    device, old = register_device(client, registrar, home["id"])

    rotated = client.post(f"/api/v1/devices/{device['id']}/credential", headers=registrar)

    assert rotated.status_code == 200, rotated.text
    assert last_audit(session).action == "device.rotate_credential"
    new = {"Authorization": f"Device {rotated.json()['credential']}"}
    path = f"/api/v1/devices/{device['id']}/readings"
    assert_problem(client.post(path, json={"readings": [reading(1)]}, headers=old), 401, "authorization",
                   "device_credential")
    assert client.post(path, json={"readings": [reading(1)]}, headers=new).json()["accepted"] == 1


def test_a_revoked_device_writes_nothing_and_cannot_be_revoked_twice(client, session, registrar, home):
    device, credential = register_device(client, registrar, home["id"])

    revoked = client.post(f"/api/v1/devices/{device['id']}/revoke", headers=registrar)
    pushed = client.post(f"/api/v1/devices/{device['id']}/readings", json={"readings": [reading(1)]}, headers=credential)
    again = client.post(f"/api/v1/devices/{device['id']}/revoke", headers=registrar)

    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_problem(pushed, 401, "authorization", "device_credential")
    assert_problem(again, 409, "device_id", "device_revoked")
    assert session.exec(select(Device)).one().last_seq == -1
    exposition = client.get("/metrics").content
    assert b'fsp_equipment_readings_refused_total{reason="revoked"} 1.0' in exposition
    assert device["id"].encode() not in exposition  # a revoked device has no series


def test_an_unknown_device_is_not_found(client, registrar):
    assert_problem(client.get(f"/api/v1/devices/{uuid.uuid4()}", headers=registrar), 404, "device_id", "exists")
