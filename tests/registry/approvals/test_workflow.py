"""Approvals: a citizen submits, the reviewer accepts or refuses and reviews, the provincial admin decides; each
step only by its role, from its state, with reasons where the applicant must read why."""
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, count, last_audit, snapshot
from factories import facility_approval_payload, submit_approval, transport_approval_payload
from registry import query_codes
from registry.approvals import service
from registry.approvals.models import Approval, ApprovalFilters, ApprovalStep
from registry.outbox.models import OutboxEvent


@pytest.fixture
def reviewer(mint):
    return mint("reviewer", subject="reviewer-1")


@pytest.fixture
def decider(mint):
    return mint("provincial-admin", subject="admin-1")


def _post(client, approval_id, step, headers, body=None):
    return client.post(f"/api/v1/approvals/{approval_id}/{step}", json=body, headers=headers)


def test_a_submission_answers_its_query_code_once_and_stores_only_its_digest(client, session, citizen):
    receipt = submit_approval(client, citizen)
    approval, code = receipt["approval"], receipt["query_code"]
    assert query_codes.well_formed(code)
    assert approval["status"] == "submitted" and approval["number"].startswith("110000-SP-")
    stored = session.get(Approval, uuid.UUID(approval["id"]))
    assert stored.query_code_digest == query_codes.digest(code)
    assert code not in json.dumps(stored.model_dump(mode="json"))
    mine = client.get(f"/api/v1/my/approvals/{approval['id']}", headers=citizen).json()
    assert "query_code" not in mine


def test_the_deadline_of_acceptance_is_five_working_days(client, session, citizen):
    approval = submit_approval(client, citizen)["approval"]
    submitted = datetime.fromisoformat(approval["submitted_at"]).date()
    from registry import workdays

    assert approval["due_on"] == workdays.add_working_days(submitted, 5).isoformat()


def test_the_whole_way_to_approval_moves_step_by_step_with_events(client, session, citizen, reviewer, decider):
    approval = submit_approval(client, citizen, transport_approval_payload())["approval"]
    for step, headers, status in [("accept", reviewer, "accepted"), ("review", reviewer, "reviewed"),
                                  ("approve", decider, "approved")]:
        response = _post(client, approval["id"], step, headers, {"opinion": "材料齐全"} if step == "review" else None)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert last_audit(session).action == f"approval.{step}"
    body = client.get(f"/api/v1/approvals/{approval['id']}", headers=reviewer).json()
    assert [s["status"] for s in body["steps"]] == ["submitted", "accepted", "reviewed", "approved"]
    assert body["steps"][2]["remark"] == "材料齐全" and body["due_on"] is None
    session.rollback()
    events = session.exec(select(OutboxEvent).order_by(OutboxEvent.seq)).all()
    assert [e.event_type for e in events if e.event_type.startswith("approval.")] == [
        "approval.submitted", "approval.accepted", "approval.reviewed", "approval.approved"]
    shipped = "".join(e.payload for e in events)  # the JSON text the ministry receives
    transport = transport_approval_payload()["transport"]
    for personal in ("张三", "张*", "李四", transport["escort_phone"], "某医院"):
        assert personal not in shipped


def test_acceptance_sets_the_decision_deadline_twenty_working_days_on(client, citizen, reviewer):
    approval = submit_approval(client, citizen)["approval"]
    accepted = _post(client, approval["id"], "accept", reviewer).json()
    from registry import workdays

    assert accepted["due_on"] == workdays.add_working_days(date.fromisoformat(accepted["accepted_on"]), 20).isoformat()


@pytest.mark.parametrize("step,role", [("refuse", "reviewer"), ("reject", "decider")])
def test_refusal_and_rejection_carry_their_reasons_to_the_applicant(client, citizen, reviewer, decider, step, role):
    approval = submit_approval(client, citizen)["approval"]
    if step == "reject":
        _post(client, approval["id"], "accept", reviewer)
        _post(client, approval["id"], "review", reviewer)
    headers = {"reviewer": reviewer, "decider": decider}[role]
    response = _post(client, approval["id"], step, headers, {"reasons": "选址不符合殡葬设施规划"})
    assert response.status_code == 200, response.text
    mine = client.get(f"/api/v1/my/approvals/{approval['id']}", headers=citizen).json()
    assert mine["status"] == {"refuse": "refused", "reject": "rejected"}[step]
    assert mine["steps"][-1]["remark"] == "选址不符合殡葬设施规划"
    assert mine["steps"][-1]["actor"] is None  # staff are named to staff, not to the applicant


@pytest.mark.parametrize("step", ["refuse", "reject"])
def test_refusal_or_rejection_without_reasons_is_refused_and_writes_nothing(client, session, citizen, reviewer,
                                                                            decider, expect_refusal, step):
    approval = submit_approval(client, citizen)["approval"]
    headers = reviewer
    if step == "reject":
        _post(client, approval["id"], "accept", reviewer)
        _post(client, approval["id"], "review", reviewer)
        headers = decider
    expect_refusal(f"/api/v1/approvals/{approval['id']}/{step}", {}, headers, 422, "reasons", "missing", ApprovalStep)
    expect_refusal(f"/api/v1/approvals/{approval['id']}/{step}", {"reasons": " "}, headers, 422, "reasons",
                   "string_too_short", ApprovalStep)


# each step, and a role that holds some approval permission but not this step's
WRONG_ROLE = [("accept", "provincial-admin"), ("refuse", "provincial-admin"), ("review", "provincial-admin"),
              ("approve", "reviewer"), ("reject", "reviewer"), ("accept", "citizen"), ("approve", "registrar")]


@pytest.mark.parametrize("step,role", WRONG_ROLE)
def test_each_step_only_by_its_role(client, session, mint, citizen, step, role, expect_refusal):
    approval = submit_approval(client, citizen)["approval"]
    body = {"reasons": "理由"} if step in ("refuse", "reject") else None
    expect_refusal(f"/api/v1/approvals/{approval['id']}/{step}", body, mint(role), 403, "authorization", "permission",
                   ApprovalStep)


# each step from a state it does not start from
WRONG_STATE = [("review", "submitted"), ("approve", "submitted"), ("reject", "accepted"), ("accept", "accepted"),
               ("refuse", "reviewed"), ("accept", "approved"), ("review", "refused")]
REACH = {"submitted": [], "accepted": ["accept"], "reviewed": ["accept", "review"],
         "approved": ["accept", "review", "approve"], "refused": ["refuse"]}


@pytest.mark.parametrize("step,state", WRONG_STATE)
def test_each_step_only_from_its_state(client, session, citizen, reviewer, decider, step, state, expect_refusal):
    approval = submit_approval(client, citizen)["approval"]
    for earlier in REACH[state]:
        headers = decider if earlier in ("approve", "reject") else reviewer
        assert _post(client, approval["id"], earlier, headers, {"reasons": "不符合条件"} if earlier == "refuse"
                     else None).status_code == 200
    headers = decider if step in ("approve", "reject") else reviewer
    body = expect_refusal(f"/api/v1/approvals/{approval['id']}/{step}",
                          {"reasons": "理由"} if step in ("refuse", "reject") else None, headers, 409, "status",
                          "approval_status", ApprovalStep)
    assert body["errors"][0]["current"] == state


def test_a_citizen_sees_only_their_own(client, mint, citizen):
    mine = submit_approval(client, citizen)["approval"]
    other = mint("citizen", subject="citizen-0002")
    theirs = submit_approval(client, other)["approval"]
    listed = client.get("/api/v1/my/approvals", headers=citizen).json()
    assert [a["id"] for a in listed["data"]] == [mine["id"]] and listed["count"] == 1
    missing = client.get(f"/api/v1/my/approvals/{theirs['id']}", headers=citizen)
    unknown = client.get("/api/v1/my/approvals/00000000-0000-4000-8000-000000000000", headers=citizen)
    assert missing.status_code == unknown.status_code == 404
    assert missing.json()["errors"][0]["rule"] == unknown.json()["errors"][0]["rule"] == "exists"
    assert client.get("/api/v1/approvals", headers=citizen).status_code == 403  # the staff queue is not theirs


def test_staff_see_the_transport_masked_except_what_their_role_may_read(client, citizen, reviewer, decider):
    payload = transport_approval_payload()
    approval = submit_approval(client, citizen, payload)["approval"]
    number = payload["transport"]["id_number"]
    assert approval["summary"] == "张**"
    as_reviewer = client.get(f"/api/v1/approvals/{approval['id']}", headers=reviewer).json()["transport"]
    as_admin = client.get(f"/api/v1/approvals/{approval['id']}", headers=decider).json()["transport"]
    assert as_reviewer["deceased_name"] == "张三" and as_admin["deceased_name"] == "张**"
    for shown in (as_reviewer, as_admin):
        assert shown["id_number"] == number[:6] + "*" * 12 and shown["escort_phone"] == "138****1234"


def test_the_stored_application_is_encrypted_under_its_own_id(client, session, citizen):
    payload = transport_approval_payload()
    approval = submit_approval(client, citizen, payload)["approval"]
    stored = session.get(Approval, uuid.UUID(approval["id"]))
    assert "张三" not in stored.details_cipher and payload["transport"]["id_number"] not in stored.details_cipher
    assert stored.id_number_index and payload["transport"]["id_number"] not in stored.id_number_index


@pytest.mark.parametrize("payload,field,rule", [
    (facility_approval_payload(credit_code="911100001234567890"), "facility.credit_code", "credit_code"),
    (facility_approval_payload(region_code="310101"), "facility.region_code", "region_in_province"),
    (facility_approval_payload(facility_type="crematorium"), "facility.facility_type", "enum"),
    (transport_approval_payload(to_region="110108"), "transport.to_region", "cross_province"),
    (transport_approval_payload(from_region="310101", to_region="110105"), "transport.from_region",
     "region_in_province"),
    (transport_approval_payload(id_number="110105194912310000"), "transport.id_number", "id_checksum"),
    (transport_approval_payload(planned_on="2020-01-01"), "transport.planned_on", "too_early"),
    (transport_approval_payload(vehicle_plate="A12345"), "transport.vehicle_plate", "string_pattern_mismatch"),
    ({"kind": "facility", "transport": transport_approval_payload()["transport"]}, "facility", "missing"),
    ({**facility_approval_payload(), "transport": transport_approval_payload()["transport"]}, "transport",
     "not_applicable"),
])
def test_bad_applications_are_refused_with_the_field_and_rule(citizen, expect_refusal, payload, field, rule):
    expect_refusal("/api/v1/approvals", payload, citizen, 422, field, rule, Approval)


def test_only_a_citizen_submits(mint, expect_refusal):
    expect_refusal("/api/v1/approvals", facility_approval_payload(), mint("reviewer"), 403, "authorization",
                   "permission", Approval)


def test_status_by_code_reveals_number_status_and_deadline_only(client, session, citizen, reviewer):
    receipt = submit_approval(client, citizen, transport_approval_payload())
    _post(client, receipt["approval"]["id"], "accept", reviewer)
    session.rollback()
    found = service.status_by_code(session, query_codes.digest(receipt["query_code"].lower()))
    assert (found.kind, found.number, found.status) == ("approval", receipt["approval"]["number"], "accepted")
    assert found.due_on.date().isoformat() == client.get(
        f"/api/v1/my/approvals/{receipt['approval']['id']}", headers=citizen).json()["due_on"]
    assert service.status_by_code(session, query_codes.digest(query_codes.new_code())) is None


def test_overdue_at_a_given_now_in_lists_and_on_metrics(client, session, citizen, reviewer):
    first = submit_approval(client, citizen)["approval"]
    submit_approval(client, citizen, transport_approval_payload())
    due = date.fromisoformat(first["due_on"])
    session.rollback()
    on_the_day = datetime.combine(due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
    day_after = on_the_day + timedelta(days=1)
    assert service.list_approvals(session, filters=ApprovalFilters(overdue=True), now=on_the_day).count == 0
    late = service.list_approvals(session, filters=ApprovalFilters(overdue=True), now=day_after)
    assert late.count == 2 and all(a.overdue for a in late.data)
    facility = service.list_approvals(session, filters=ApprovalFilters(overdue=True, kind="facility"), now=day_after)
    assert [str(a.id) for a in facility.data] == [first["id"]]
    from registry.approvals.metrics import open_counts

    assert open_counts(session, today=day_after.date())["facility"] == (1, 1)
    assert open_counts(session, today=on_the_day.date())["transport"] == (1, 0)
    # a step taken late is marked late, and the next step is due again
    accepted = service.take_step(session, ctx=client.app.state.ctx, principal=_principal(client, "reviewer"),
                                 approval_id=uuid.UUID(first["id"]), step="accept", now=day_after)
    session.rollback()
    step = session.exec(select(ApprovalStep).where(ApprovalStep.approval_id == accepted.id,
                                                   ApprovalStep.status == "accepted")).one()
    assert step.late and accepted.due_on > day_after.date()


def test_metrics_show_open_and_overdue_approvals_per_kind(client, citizen):
    submit_approval(client, citizen)
    text = client.get("/metrics").text
    assert 'fsp_approvals_open{kind="facility"} 1.0' in text
    assert 'fsp_approvals_overdue{kind="facility"} 0.0' in text and 'fsp_approvals_open{kind="transport"} 0.0' in text


def test_the_queue_filters_by_kind_status_and_pages(client, citizen, reviewer):
    facility = submit_approval(client, citizen)["approval"]
    transport = submit_approval(client, citizen, transport_approval_payload())["approval"]
    _post(client, transport["id"], "accept", reviewer)
    by_kind = client.get("/api/v1/approvals?kind=transport", headers=reviewer).json()
    assert [a["id"] for a in by_kind["data"]] == [transport["id"]]
    by_status = client.get("/api/v1/approvals?status=submitted", headers=reviewer).json()
    assert [a["id"] for a in by_status["data"]] == [facility["id"]]
    paged = client.get("/api/v1/approvals?limit=1&offset=1", headers=reviewer).json()
    assert paged["count"] == 2 and len(paged["data"]) == 1
    assert_problem(client.get("/api/v1/approvals?kind=burial", headers=reviewer), 422, "kind", "enum")


def _principal(client, role):
    from registry.security.auth import Principal
    from registry.security.permissions import permissions_of

    return Principal(subject=f"{role}-direct", roles=frozenset({role}), permissions=permissions_of(frozenset({role})))


def test_refusals_are_audited(client, session, citizen, decider):
    approval = submit_approval(client, citizen)["approval"]
    before = snapshot(session, ApprovalStep)
    _post(client, approval["id"], "approve", decider)
    assert_refused_and_nothing_written(session, before, ApprovalStep)
    assert last_audit(session).actor == "admin-1" and count(session, Approval) == 1
