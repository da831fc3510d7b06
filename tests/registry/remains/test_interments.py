"""Interment: burial (安葬) in a cemetery, placement (安放) of ashes in a niche; burying a body moves the case."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from assertions import assert_hidden_like_a_missing_case
from registry.remains.models import Interment


def _path(case: dict) -> str:
    return f"/api/v1/cases/{case['id']}/interments"


def _interment(place: dict, kind: str = "placement", form: str = "ashes", **overrides) -> dict:
    payload = {"kind": kind, "remains_form": form, "institution_id": place["id"], "plot_or_niche": "思园B区3排21号",
               "interred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    payload.update(overrides)
    return payload


@pytest.fixture
def columbarium(make_institution):
    return make_institution("columbarium")


@pytest.fixture
def cemetery(make_institution):
    return make_institution("public_cemetery")


def test_ashes_placed_in_a_columbarium_are_recorded_audited_and_queued(client, registrar, columbarium, cremated_case,
                                                                       case_status, recorded):
    response = client.post(_path(cremated_case), json=_interment(columbarium), headers=registrar)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["remains_form"], body["institution_id"]) == ("placement", "ashes", columbarium["id"])
    assert client.get(_path(cremated_case), headers=registrar).json() == {"data": [body], "count": 1}
    assert case_status(cremated_case) == "cremated"
    events, entries = recorded()
    assert [(t, i) for t, i, _ in events] == [("interment.recorded", body["id"])]
    assert json.loads(events[0][2]) == body
    assert entries == [("interment.record", body["id"], "ok")]


def test_burying_a_body_moves_a_registered_case_to_buried(client, registrar, cemetery, funeral_home, case_at,
                                                          case_status, recorded):
    case = case_at(funeral_home, registrar, "registered")

    response = client.post(_path(case), json=_interment(cemetery, "burial", "body"), headers=registrar)

    assert response.status_code == 201, response.text
    assert case_status(case) == "buried"
    events, entries = recorded(2)
    body = response.json()
    assert [(t, i) for t, i, _ in events] == [("interment.recorded", body["id"]), ("case.buried", case["id"])]
    assert entries == [("interment.record", body["id"], "ok"), ("case.bury", case["id"], "ok")]


@pytest.mark.parametrize("kind, institution_type", [
    ("burial", "commercial_cemetery"), ("burial", "public_cemetery"),
    ("placement", "columbarium"), ("placement", "commercial_cemetery"), ("placement", "public_cemetery"),
])
def test_ashes_go_to_a_fitting_institution(client, registrar, make_institution, funeral_home, case_at, kind,
                                           institution_type):
    case = case_at(funeral_home, registrar, "closed")
    response = client.post(_path(case), json=_interment(make_institution(institution_type), kind), headers=registrar)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("kind, institution_type", [
    ("burial", "columbarium"), ("burial", "funeral_home"), ("placement", "funeral_home"), ("placement", "crematorium"),
])
def test_the_institution_must_fit_the_kind(registrar, make_institution, cremated_case, expect_refusal, kind,
                                           institution_type):
    payload = _interment(make_institution(institution_type), kind)
    expect_refusal(_path(cremated_case), payload, registrar, 422, "institution_id", "institution_type", Interment)


def test_a_body_is_never_placed_in_a_niche(registrar, columbarium, funeral_home, case_at, expect_refusal,
                                           case_status):
    case = case_at(funeral_home, registrar, "registered")
    expect_refusal(_path(case), _interment(columbarium, "placement", "body"), registrar, 422, "remains_form",
                   "placement_of_ashes", Interment)
    assert case_status(case) == "registered"


@pytest.mark.parametrize("form, status", [("body", "declared"), ("body", "cremated"), ("ashes", "registered"),
                                          ("ashes", "declared")])
def test_the_remains_must_exist_in_that_form(registrar, cemetery, funeral_home, case_at, expect_refusal, case_status,
                                             form, status):
    case = case_at(funeral_home, registrar, status)
    expect_refusal(_path(case), _interment(cemetery, "burial", form), registrar, 409, "status", "status_flow",
                   Interment)
    assert case_status(case) == status


def test_a_body_is_buried_once(client, registrar, cemetery, funeral_home, case_at, expect_refusal):
    case = case_at(funeral_home, registrar, "registered")
    assert client.post(_path(case), json=_interment(cemetery, "burial", "body"), headers=registrar).status_code == 201
    expect_refusal(_path(case), _interment(cemetery, "burial", "body", plot_or_niche="另一处"), registrar, 409,
                   "status", "status_flow", Interment)


@pytest.mark.parametrize("form", ["body", "ashes"])
def test_an_archived_case_takes_no_interment(registrar, cemetery, funeral_home, case_at, expect_refusal, form):
    case = case_at(funeral_home, registrar, "archived")
    expect_refusal(_path(case), _interment(cemetery, "burial", form), registrar, 409, "case_id", "archived",
                   Interment)


def _bad_time(case: dict, rule: str) -> str:
    if rule == "after_death":
        return (datetime.fromisoformat(case["death_at"]) - timedelta(minutes=1)).isoformat()
    return (datetime.now(UTC) + timedelta(minutes=10)).isoformat()


@pytest.mark.parametrize("rule", ["after_death", "not_future"])
def test_the_interment_time_must_make_sense(registrar, columbarium, cremated_case, expect_refusal, rule):
    payload = _interment(columbarium, interred_at=_bad_time(cremated_case, rule))
    expect_refusal(_path(cremated_case), payload, registrar, 422, "interred_at", rule, Interment)


@pytest.mark.parametrize("change, rule", [
    ({"plot_or_niche": None}, "string_type"), ({"plot_or_niche": " "}, "string_too_short"),
    ({"kind": "sky_burial"}, "enum"),
])
def test_the_plot_or_niche_and_kind_are_required(registrar, columbarium, cremated_case, expect_refusal, change, rule):
    field = next(iter(change))
    expect_refusal(_path(cremated_case), _interment(columbarium, **change), registrar, 422, field, rule, Interment)


def test_an_unknown_institution_is_invalid_input(registrar, cremated_case, expect_refusal):
    expect_refusal(_path(cremated_case), _interment({"id": str(uuid.uuid4())}), registrar, 422, "institution_id",
                   "exists", Interment)


def test_without_a_hand_over_the_place_does_not_find_the_case(client, registrar_of, columbarium, cremated_case,
                                                              expect_refusal):
    receiver = registrar_of(columbarium)
    expect_refusal(_path(cremated_case), _interment(columbarium), receiver, 404, "case_id", "exists", Interment)
    assert_hidden_like_a_missing_case(client, "POST", _path(cremated_case), cremated_case["id"], receiver,
                                      json=_interment(columbarium))


def test_a_case_is_interred_once(client, registrar, columbarium, cemetery, cremated_case, expect_refusal):
    assert client.post(_path(cremated_case), json=_interment(columbarium), headers=registrar).status_code == 201
    for again in (_interment(columbarium), _interment(cemetery, "burial", plot_or_niche="福园1排1号")):
        expect_refusal(_path(cremated_case), again, registrar, 409, "case_id", "already_interred", Interment)


def test_a_plot_holds_one_case(client, registrar, columbarium, make_institution, funeral_home, case_at,
                               expect_refusal):
    first, second = (case_at(funeral_home, registrar, "cremated") for _ in range(2))
    assert client.post(_path(first), json=_interment(columbarium), headers=registrar).status_code == 201
    body = expect_refusal(_path(second), _interment(columbarium), registrar, 409, "plot_or_niche", "plot_occupied",
                          Interment)
    assert first["id"] not in json.dumps(body)  # the other case is not named
    # the same niche number at another columbarium is another niche
    elsewhere = _interment(make_institution("columbarium"))
    assert client.post(_path(second), json=elsewhere, headers=registrar).status_code == 201


@pytest.mark.parametrize("clash", ["case", "plot"])
def test_the_database_refuses_a_second_interment_of_a_case_or_a_plot(client, session, registrar, columbarium,
                                                                     funeral_home, case_at, clash):
    # what two concurrent writers would both get past the service's checks with
    first, second = (case_at(funeral_home, registrar, "cremated") for _ in range(2))
    assert client.post(_path(first), json=_interment(columbarium), headers=registrar).status_code == 201
    case_id, plot = (first["id"], "另一格") if clash == "case" else (second["id"], "思园B区3排21号")
    session.add(Interment(case_id=uuid.UUID(case_id), kind="placement", remains_form="ashes",
                          institution_id=uuid.UUID(columbarium["id"]), plot_or_niche=plot,
                          interred_at=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_an_uninvolved_registrar_does_not_find_the_case(make_institution, registrar_of, columbarium, cremated_case,
                                                        expect_refusal):
    bystander = registrar_of(make_institution("columbarium"))
    expect_refusal(_path(cremated_case), _interment(columbarium), bystander, 404, "case_id", "exists", Interment)


def test_a_reviewer_cannot_record_it(reviewer, columbarium, cremated_case, expect_refusal):
    expect_refusal(_path(cremated_case), _interment(columbarium), reviewer, 403, "authorization", "permission",
                   Interment)
