"""The province records annual inspections and administrative penalties: audited, sent on as `credit.*` events
without free text, refused in the one error shape with nothing written, and only by the provincial admin."""
import json
import uuid

import pytest

from assertions import assert_problem, last_audit, last_event
from factories import TODAY, YEAR, inspection_payload, penalty_payload
from registry.credit.models import Inspection, Penalty


def test_an_inspection_is_recorded_audited_and_sent_without_its_findings_text(client, session, admin, funeral_home, post):
    findings = [{"category": "pricing", "text": "收费公示牌未更新"}]
    body = post("/api/v1/credit/inspections", inspection_payload(funeral_home["id"], result="basically_qualified",
                                                                 findings=findings), admin, 201)

    assert (body["result"], body["findings"], body["year"]) == ("basically_qualified", findings, YEAR)
    entry = last_audit(session)
    assert (entry.action, entry.object_id) == ("credit.inspection_recorded", funeral_home["id"])
    event = last_event(session)
    assert event.event_type == "credit.inspection_recorded"
    assert json.loads(event.payload) == {"inspection_id": body["id"], "institution_id": funeral_home["id"],
                                         "year": YEAR, "inspected_on": TODAY.isoformat(),
                                         "result": "basically_qualified", "findings": 1}
    listed = client.get("/api/v1/credit/inspections", params={"year": YEAR}, headers=admin).json()["data"]
    assert [i["id"] for i in listed] == [body["id"]]


def test_a_penalty_is_recorded_audited_and_sent_without_its_reason(client, session, admin, funeral_home, post):
    body = post("/api/v1/credit/penalties", penalty_payload(funeral_home["id"], kind="fine", amount_fen=500000,
                                                            decision_no="京民罚字〔2026〕7号"), admin, 201)

    assert (body["kind"], body["amount_fen"], body["reason"]) == ("fine", 500000, "未按规定公示收费标准")
    assert last_audit(session).action == "credit.penalty_recorded"
    payload = json.loads(last_event(session).payload)
    assert payload == {"penalty_id": body["id"], "institution_id": funeral_home["id"], "decided_on": TODAY.isoformat(),
                       "decision_no": "京民罚字〔2026〕7号", "kind": "fine", "amount_fen": 500000}
    listed = client.get("/api/v1/credit/penalties", params={"institution_id": funeral_home["id"]}, headers=admin)
    assert [p["decision_no"] for p in listed.json()["data"]] == ["京民罚字〔2026〕7号"]


FUTURE = "2999-01-01"


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"inspected_on": FUTURE, "year": 2100}, "inspected_on", "not_future"),
    ({"year": YEAR - 3}, "inspected_on", "inspection_year"),
    ({"result": "unqualified"}, "findings", "findings_required"),
    ({"result": "excellent"}, "result", "enum"),
    ({"findings": [{"category": "pricing", "text": ""}], "result": "unqualified"}, "findings.0.text", "string_too_short"),
    ({"findings": [{"category": "mood", "text": "x"}], "result": "unqualified"}, "findings.0.category", "enum"),
    ({"year": 1999}, "year", "greater_than_equal"),
    ({"institution_id": str(uuid.UUID(int=1))}, "institution_id", "exists"),
])
def test_a_bad_inspection_is_refused_in_the_one_shape_nothing_written(expect_refusal, admin, funeral_home, change,
                                                                       field, rule):
    status = 404 if rule == "exists" else 422
    payload = {**inspection_payload(funeral_home["id"]), **change}
    body = expect_refusal("/api/v1/credit/inspections", payload, admin,
                          status, field, rule, Inspection)
    assert all(problem["message"] for problem in body["errors"])


def test_a_second_inspection_of_the_year_is_a_conflict_in_chinese(expect_refusal, post, admin, funeral_home):
    post("/api/v1/credit/inspections", inspection_payload(funeral_home["id"]), admin, 201)
    body = expect_refusal("/api/v1/credit/inspections", inspection_payload(funeral_home["id"]), admin, 409, "year",
                          "inspection_recorded", Inspection)
    assert body["errors"][0]["message"] == "该机构这一年度的年检已经登记过。"


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"kind": "fine", "amount_fen": 0}, "amount_fen", "penalty_amount"),
    ({"kind": "warning", "amount_fen": 100}, "amount_fen", "penalty_amount"),
    ({"decided_on": FUTURE}, "decided_on", "not_future"),
    ({"kind": "jail"}, "kind", "enum"),
    ({"amount_fen": -1, "kind": "fine"}, "amount_fen", "greater_than_equal"),
    ({"reason": ""}, "reason", "string_too_short"),
])
def test_a_bad_penalty_is_refused_in_the_one_shape_nothing_written(expect_refusal, admin, funeral_home, change,
                                                                    field, rule):
    expect_refusal("/api/v1/credit/penalties", penalty_payload(funeral_home["id"], **change), admin, 422, field, rule,
                   Penalty)


def test_a_decision_is_recorded_once(expect_refusal, post, admin, funeral_home):
    payload = penalty_payload(funeral_home["id"])
    post("/api/v1/credit/penalties", payload, admin, 201)
    expect_refusal("/api/v1/credit/penalties", payload, admin, 409, "decision_no", "penalty_recorded", Penalty)


def test_a_registrar_records_nothing_and_the_refusal_is_audited(client, session, registrar, funeral_home):
    for path, payload in (("/api/v1/credit/inspections", inspection_payload(funeral_home["id"])),
                          ("/api/v1/credit/penalties", penalty_payload(funeral_home["id"]))):
        assert_problem(client.post(path, json=payload, headers=registrar), 403, "authorization", "permission")
        assert (last_audit(session).actor, last_audit(session).result) == ("registrar-fh", "refused")
