"""The hand-over of the ashes (骨灰移交): the case's institution names the receiving cemetery or columbarium, whose
registrars may then read that case and record its interment there, and nothing else."""
from datetime import UTC, datetime, timedelta

import pytest

from assertions import last_audit
from registry.remains.models import AshesDestination, Handover


def _destination(place: dict, kind: str = "columbarium") -> dict:
    return {"destination": kind, "institution_id": place["id"], "plot_or_niche": "思园B区3排21号"}


def _interment(place: dict, plot: str = "思园B区3排21号") -> dict:
    return {"kind": "placement", "remains_form": "ashes", "institution_id": place["id"], "plot_or_niche": plot,
            "interred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}


@pytest.fixture
def columbarium(make_institution):
    return make_institution("columbarium")


@pytest.fixture
def handed_over(client, registrar, columbarium, cremated_case):
    """The funeral home records the columbarium as the ashes destination: the case is handed over to it."""
    response = client.post(f"/api/v1/cases/{cremated_case['id']}/ashes-destination", json=_destination(columbarium),
                           headers=registrar)
    assert response.status_code == 201, response.text
    return response.json()


def test_naming_the_receiving_place_hands_the_case_over_stored_audited_and_visible(
        client, session, registrar, funeral_home, columbarium, cremated_case, handed_over, registrar_of):
    response = client.get(f"/api/v1/cases/{cremated_case['id']}/handover", headers=registrar)
    assert response.status_code == 200, response.text
    handover = response.json()
    assert (handover["case_id"], handover["ashes_destination_id"], handover["from_institution_id"],
            handover["to_institution_id"]) == (cremated_case["id"], handed_over["id"], funeral_home["id"],
                                               columbarium["id"])
    assert client.get(f"/api/v1/cases/{cremated_case['id']}/handover",
                      headers=registrar_of(columbarium)).json() == handover
    entries = {(e.action, e.object_id) for e in _entries(session)}
    assert ("case.hand_over", cremated_case["id"]) in entries


def _entries(session):
    from sqlmodel import select

    from registry.audit.models import AuditEntry

    session.rollback()
    return session.exec(select(AuditEntry)).all()


def test_the_receiver_reads_the_case_and_records_the_interment_at_its_place(
        client, registrar_of, columbarium, cremated_case, handed_over):
    receiver = registrar_of(columbarium, subject="niche-keeper")
    path = f"/api/v1/cases/{cremated_case['id']}"
    assert client.get(path, headers=receiver).status_code == 200
    assert [c["id"] for c in client.get("/api/v1/cases", headers=receiver).json()["data"]] == [cremated_case["id"]]
    assert client.get(f"{path}/ashes-destination", headers=receiver).json() == handed_over
    response = client.post(f"{path}/interments", json=_interment(columbarium), headers=receiver)
    assert response.status_code == 201, response.text
    assert client.get(f"{path}/interments", headers=receiver).json()["count"] == 1


def test_the_receiver_may_do_nothing_else_with_the_case(client, registrar_of, funeral_home, make_institution,
                                                        columbarium, cremated_case, handed_over, expect_refusal,
                                                        case_at, registrar):
    receiver = registrar_of(columbarium)
    path = f"/api/v1/cases/{cremated_case['id']}"
    # it reads the case, so it is told why: the case belongs to another institution
    for action, body in [("close", None), ("corrections", {"changes": {"deceased_name": "改名"}, "reason": "核对"}),
                         ("certificates", None), ("ashes-destination", {"destination": "sea_scattering"})]:
        expect_refusal(f"{path}/{action}", body, receiver, 403, "case_id", "institution_binding", AshesDestination)
    # an interment only at its own place
    elsewhere = make_institution("columbarium")
    expect_refusal(f"{path}/interments", _interment(elsewhere), receiver, 403, "institution_id",
                   "institution_binding", AshesDestination)
    # the funeral home's other cases stay hidden from it
    other = case_at(funeral_home, registrar, "cremated")
    assert client.get(f"/api/v1/cases/{other['id']}", headers=receiver).status_code == 404


def test_a_bystander_gains_nothing_from_a_hand_over(client, make_institution, registrar_of, columbarium,
                                                    cremated_case, handed_over, expect_refusal):
    bystander = registrar_of(make_institution("columbarium"))
    assert client.get(f"/api/v1/cases/{cremated_case['id']}", headers=bystander).status_code == 404
    assert client.get("/api/v1/cases", headers=bystander).json()["count"] == 0
    expect_refusal(f"/api/v1/cases/{cremated_case['id']}/interments", _interment(columbarium), bystander, 404,
                   "case_id", "exists", AshesDestination)


def test_no_hand_over_without_a_receiving_place(client, session, registrar, cremated_case):
    response = client.post(f"/api/v1/cases/{cremated_case['id']}/ashes-destination",
                           json={"destination": "sea_scattering"}, headers=registrar)
    assert response.status_code == 201
    answer = client.get(f"/api/v1/cases/{cremated_case['id']}/handover", headers=registrar)
    assert answer.status_code == 404 and answer.json()["errors"][0]["field"] == "handover"
    assert last_audit(session).action == "ashes_destination.record"


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_nothing_is_handed_over_to_an_institution_that_is_not_active(client, admin, registrar, columbarium,
                                                                     cremated_case, expect_refusal, status):
    assert client.patch(f"/api/v1/institutions/{columbarium['id']}", json={"status": status},
                        headers=admin).status_code == 200
    expect_refusal(f"/api/v1/cases/{cremated_case['id']}/ashes-destination", _destination(columbarium), registrar,
                   422, "institution_id", "institution_active", AshesDestination, Handover)
