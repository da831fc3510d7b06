"""Ashes destination (骨灰去向): once per cremated case; cemeteries and columbaria are named with the plot or niche."""
import json
import uuid

import pytest

from assertions import assert_hidden_like_a_missing_case
from registry.remains.models import AshesDestination


def _path(case: dict) -> str:
    return f"/api/v1/cases/{case['id']}/ashes-destination"


def test_sea_scattering_is_recorded_audited_and_queued(client, registrar, cremated_case, case_status, recorded):
    response = client.post(_path(cremated_case), json={"destination": "sea_scattering"}, headers=registrar)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["destination"], body["institution_id"], body["plot_or_niche"]) == ("sea_scattering", None, None)
    assert client.get(_path(cremated_case), headers=registrar).json() == body
    assert case_status(cremated_case) == "cremated"
    events, entries = recorded()
    assert [(t, i) for t, i, _ in events] == [("ashes_destination.recorded", body["id"])]
    assert json.loads(events[0][2]) == body
    assert entries == [("ashes_destination.record", body["id"], "ok")]


def test_a_closed_case_still_records_its_destination(client, registrar, funeral_home, case_at):
    case = case_at(funeral_home, registrar, "closed")
    response = client.post(_path(case), json={"destination": "kept_at_home"}, headers=registrar)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("destination, institution_type", [
    ("commercial_cemetery", "commercial_cemetery"), ("public_cemetery", "public_cemetery"),
    ("columbarium", "columbarium"), ("columbarium", "public_cemetery"), ("columbarium", "commercial_cemetery"),
])
def test_a_place_destination_names_a_fitting_institution_and_plot(client, registrar, make_institution, cremated_case,
                                                                   destination, institution_type):
    place = make_institution(institution_type)
    payload = {"destination": destination, "institution_id": place["id"], "plot_or_niche": "松园3区12排8号"}
    response = client.post(_path(cremated_case), json=payload, headers=registrar)
    assert response.status_code == 201, response.text
    assert (response.json()["institution_id"], response.json()["plot_or_niche"]) == (place["id"], "松园3区12排8号")


@pytest.mark.parametrize("destination, institution_type", [
    ("commercial_cemetery", "public_cemetery"), ("public_cemetery", "commercial_cemetery"),
    ("public_cemetery", "columbarium"), ("columbarium", "funeral_home"),
])
def test_the_institution_must_fit_the_destination(registrar, make_institution, cremated_case, expect_refusal,
                                                  destination, institution_type):
    place = make_institution(institution_type)
    payload = {"destination": destination, "institution_id": place["id"], "plot_or_niche": "A-1"}
    expect_refusal(_path(cremated_case), payload, registrar, 422, "institution_id", "institution_type",
                   AshesDestination)


@pytest.mark.parametrize("payload, field, rule", [
    ({"destination": "public_cemetery", "plot_or_niche": "A-1"}, "institution_id", "missing"),
    ({"destination": "columbarium", "institution_id": "<place>"}, "plot_or_niche", "missing"),
    ({"destination": "sea_scattering", "plot_or_niche": "A-1"}, "plot_or_niche", "not_applicable"),
    ({"destination": "returned_to_hometown", "institution_id": "<place>", "plot_or_niche": "A-1"}, "plot_or_niche",
     "not_applicable"),
    ({"destination": "other"}, "note", "missing"),
    ({"destination": "to_the_moon"}, "destination", "enum"),
])
def test_what_each_destination_needs(registrar, make_institution, cremated_case, expect_refusal, payload, field, rule):
    place = make_institution("columbarium")
    payload = {k: place["id"] if v == "<place>" else v for k, v in payload.items()}
    expect_refusal(_path(cremated_case), payload, registrar, 422, field, rule, AshesDestination)


def test_other_with_a_note_and_an_optional_institution(client, registrar, funeral_home, cremated_case):
    payload = {"destination": "other", "note": "暂存殡仪馆寄存室，家属半年内领取", "institution_id": funeral_home["id"]}
    response = client.post(_path(cremated_case), json=payload, headers=registrar)
    assert response.status_code == 201, response.text
    assert response.json()["note"] == payload["note"]


def test_the_destination_is_recorded_once(client, registrar, cremated_case, expect_refusal):
    first = client.post(_path(cremated_case), json={"destination": "river_scattering"}, headers=registrar).json()
    body = expect_refusal(_path(cremated_case), {"destination": "degradable_burial"}, registrar, 409, "case_id",
                          "unique", AshesDestination)
    assert body["errors"][0]["existing_id"] == first["id"]


@pytest.mark.parametrize("status, field, rule", [("declared", "status", "status_flow"),
                                                 ("registered", "status", "status_flow"),
                                                 ("archived", "case_id", "archived")])
def test_ashes_exist_only_after_cremation(registrar, funeral_home, case_at, expect_refusal, status, field, rule):
    case = case_at(funeral_home, registrar, status)
    expect_refusal(_path(case), {"destination": "sea_scattering"}, registrar, 409, field, rule, AshesDestination)


def test_a_buried_case_has_no_ashes(client, registrar, make_institution, funeral_home, case_at, expect_refusal):
    cemetery = make_institution("public_cemetery")
    case = case_at(funeral_home, registrar, "registered")
    burial = {"kind": "burial", "remains_form": "body", "institution_id": cemetery["id"], "plot_or_niche": "回民区1号",
              "interred_at": case["death_at"]}
    assert client.post(f"/api/v1/cases/{case['id']}/interments", json=burial, headers=registrar).status_code == 201
    expect_refusal(_path(case), {"destination": "sea_scattering"}, registrar, 409, "status", "status_flow",
                   AshesDestination)


def test_an_unknown_institution_is_invalid_input(registrar, cremated_case, expect_refusal):
    payload = {"destination": "public_cemetery", "institution_id": str(uuid.uuid4()), "plot_or_niche": "A-1"}
    expect_refusal(_path(cremated_case), payload, registrar, 422, "institution_id", "exists", AshesDestination)


def test_the_receiving_institution_cannot_record_it_for_a_case_it_cannot_read(
        client, make_institution, registrar_of, cremated_case, expect_refusal):
    # the case's own institution names the receiver (the hand-over): the receiver cannot name itself
    cemetery = make_institution("commercial_cemetery")
    payload = {"destination": "commercial_cemetery", "institution_id": cemetery["id"], "plot_or_niche": "福园2排5号"}
    expect_refusal(_path(cremated_case), payload, registrar_of(cemetery), 404, "case_id", "exists", AshesDestination)
    assert_hidden_like_a_missing_case(client, "POST", _path(cremated_case), cremated_case["id"],
                                      registrar_of(cemetery), json=payload)


def test_an_uninvolved_registrar_does_not_find_the_case(make_institution, registrar_of, cremated_case,
                                                        expect_refusal):
    cemetery, bystander = make_institution("commercial_cemetery"), make_institution("commercial_cemetery")
    payload = {"destination": "commercial_cemetery", "institution_id": cemetery["id"], "plot_or_niche": "福园2排5号"}
    expect_refusal(_path(cremated_case), payload, registrar_of(bystander), 404, "case_id", "exists", AshesDestination)


def test_a_reviewer_cannot_record_it(reviewer, cremated_case, expect_refusal):
    expect_refusal(_path(cremated_case), {"destination": "sea_scattering"}, reviewer, 403, "authorization",
                   "permission", AshesDestination)


def test_no_destination_yet_is_not_found(client, registrar, cremated_case):
    response = client.get(_path(cremated_case), headers=registrar)
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "ashes_destination"
