"""A cremation linked to the cremator cycle that performed it shows the cycle's real start and end."""
import json
import uuid
from datetime import datetime

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import create_institution, cremator_cycle, declare_case, reading, register_device
from registry.cremations.models import Cremation


@pytest.fixture
def home(client, admin):
    return create_institution(client, admin)


@pytest.fixture
def registrar(mint, home):
    return mint("registrar", institution_id=uuid.UUID(home["id"]), subject="registrar-1")


@pytest.fixture
def cremated(client, mint, registrar, home) -> dict:
    """A case of the home, cremated there; the recorded times are what staff wrote down."""
    case = declare_case(client, registrar, home["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/register", headers=mint("reviewer")).status_code == 200
    recorded = {"institution_id": home["id"], "started_at": reading(0, minutes_ago=180)["at"],
                "ended_at": reading(0, minutes_ago=100)["at"], "furnace_no": "F-01", "operator_name": "李师傅"}
    response = client.post(f"/api/v1/cases/{case['id']}/cremation", json=recorded, headers=registrar)
    assert response.status_code == 201, response.text
    return case


@pytest.fixture
def cremator(client, registrar, home):
    device, credential = register_device(client, registrar, home["id"])
    readings = [*cremator_cycle(1, "C-1", minutes_ago=130, minutes=70), reading(3, "temperature_c", 900),
                reading(4, "cycle_start", 1, minutes_ago=20, cycle="C-2")]
    assert client.post(f"/api/v1/devices/{device['id']}/readings", json={"readings": readings},
                       headers=credential).json()["accepted"] == 4
    return device, readings


def test_the_cremation_shows_the_real_times_of_its_cycle(client, session, registrar, cremated, cremator):
    device, readings = cremator

    response = client.post(f"/api/v1/cases/{cremated['id']}/cremation/cycle",
                           json={"device_id": device["id"], "cycle": "C-1"}, headers=registrar)

    assert response.status_code == 200, response.text
    shown = client.get(f"/api/v1/cases/{cremated['id']}/cremation", headers=registrar).json()
    assert (shown["cycle_device_id"], shown["cycle"]) == (device["id"], "C-1")
    assert datetime.fromisoformat(shown["cycle_started_at"]) == datetime.fromisoformat(readings[0]["at"])
    assert datetime.fromisoformat(shown["cycle_ended_at"]) == datetime.fromisoformat(readings[1]["at"])
    assert shown["started_at"] != shown["cycle_started_at"]  # what staff recorded stays as recorded
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id) == ("registrar-1", "cremation.link_cycle", shown["id"])
    assert json.loads(entry.detail)["cycle"] == "C-1"


def test_one_cycle_performs_one_cremation(client, session, mint, registrar, home, cremated, cremator):
    device, _ = cremator
    path = f"/api/v1/cases/{cremated['id']}/cremation/cycle"
    assert client.post(path, json={"device_id": device["id"], "cycle": "C-1"}, headers=registrar).status_code == 200
    second = declare_case(client, registrar, home["id"])
    client.post(f"/api/v1/cases/{second['id']}/register", headers=mint("reviewer"))
    client.post(f"/api/v1/cases/{second['id']}/cremation", headers=registrar, json={
        "institution_id": home["id"], "started_at": reading(0, minutes_ago=60)["at"],
        "ended_at": reading(0, minutes_ago=30)["at"], "furnace_no": "F-01", "operator_name": "李师傅"})
    before = snapshot(session, Cremation)

    response = client.post(f"/api/v1/cases/{second['id']}/cremation/cycle",
                           json={"device_id": device["id"], "cycle": "C-1"}, headers=registrar)

    assert_problem(response, 409, "cycle", "unique")
    assert_refused_and_nothing_written(session, before, Cremation)


@pytest.mark.parametrize(("link", "status", "field", "rule"), [
    ({"cycle": "C-2"}, 422, "cycle", "cycle_unfinished"),
    ({"cycle": "C-9"}, 422, "cycle", "cycle_unknown"),
    ({"device_id": "cold"}, 422, "device_id", "device_kind"),
    ({"device_id": "elsewhere"}, 422, "device_id", "exists"),
    ({"cycle": "C 1"}, 422, "cycle", "string_pattern_mismatch"),
])
def test_a_cycle_that_cannot_be_the_cremations_is_refused(client, session, admin, registrar, home, cremated, cremator,
                                                          link, status, field, rule):
    device, _ = cremator
    devices = {"cold": register_device(client, registrar, home["id"], "cold_storage")[0]["id"],
               "elsewhere": register_device(client, admin, create_institution(client, admin)["id"])[0]["id"]}
    body = {"device_id": device["id"], "cycle": "C-1", **link}
    body["device_id"] = devices.get(body["device_id"], body["device_id"])
    before = snapshot(session, Cremation)

    response = client.post(f"/api/v1/cases/{cremated['id']}/cremation/cycle", json=body, headers=registrar)

    assert_problem(response, status, field, rule)
    assert_refused_and_nothing_written(session, before, Cremation)
    assert session.get(Cremation, uuid.UUID(client.get(f"/api/v1/cases/{cremated['id']}/cremation",
                                                       headers=registrar).json()["id"])).cycle is None


def test_a_case_without_cremation_has_no_cycle(client, registrar, home, cremator):
    device, _ = cremator
    case = declare_case(client, registrar, home["id"])

    response = client.post(f"/api/v1/cases/{case['id']}/cremation/cycle", json={"device_id": device["id"], "cycle": "C-1"},
                           headers=registrar)

    assert_problem(response, 409, "case_id", "cremation_required")
