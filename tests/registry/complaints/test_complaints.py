"""Complaints against an institution: filed by a citizen, assigned by the province, answered by the institution
within its time limit in working days, escalated when overdue, closed upheld or not, counted for the credit
evaluation; personal data encrypted and never in events."""
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from assertions import assert_problem, last_audit
from registry import query_codes, workdays
from registry.complaints import limits, queries, service
from registry.complaints.models import Complaint, ComplaintCreate
from registry.outbox.models import OutboxEvent
from registry.security.auth import Principal
from registry.security.permissions import Permission

TEXT = "6月3日在告别厅，工作人员张某强制我们购买骨灰盒，联系我：13800001234。"
COMPLAINT = {"category": "forced_sale", "text": TEXT, "contact": "13800001234"}


@pytest.fixture
def filed(client, citizen, funeral_home) -> dict:
    response = client.post("/api/v1/my/complaints", json={**COMPLAINT, "institution_id": funeral_home["id"]},
                           headers=citizen)
    assert response.status_code == 201, response.text
    return response.json()


def events(session, prefix="complaint.") -> list[OutboxEvent]:
    session.rollback()
    return [e for e in session.exec(select(OutboxEvent).order_by(OutboxEvent.seq)) if e.event_type.startswith(prefix)]


def test_a_citizen_files_a_complaint_stored_encrypted_and_announced_without_personal_data(client, session, filed):
    assert filed["status"] == "received" and filed["text"] == TEXT
    assert filed["contact"] == "138****1234"
    assert query_codes.well_formed(filed["query_code"])
    session.rollback()
    row = session.get(Complaint, uuid.UUID(filed["id"]))
    assert "张某" not in row.text_encrypted and "13800001234" not in row.contact_encrypted
    assert row.query_code_digest == query_codes.digest(filed["query_code"])
    [event] = events(session)
    assert event.event_type == "complaint.received"
    assert "张某" not in event.payload and "1380000" not in event.payload and "citizen-0001" not in event.payload
    assert json.loads(event.payload)["institution_id"] == filed["institution_id"]
    assert last_audit(session).actor == "citizen-0001"


def test_the_code_is_shown_once_and_reveals_status_without_personal_data(client, session, citizen, filed):
    again = client.get(f"/api/v1/my/complaints/{filed['id']}", headers=citizen).json()
    found = service_status(session, filed["query_code"])

    assert "query_code" not in again
    assert (found.kind, found.number, found.status) == ("complaint", filed["number"], "received")
    assert found.due_on.date() == date.fromisoformat(filed["due_on"])
    assert queries.status_by_code(session, query_codes.digest("AAAA-BBBB-CCCC")) is None


def service_status(session, code):
    session.rollback()
    return queries.status_by_code(session, query_codes.digest(code))


def test_a_citizen_sees_only_their_own_complaints(client, mint, filed):
    other = mint("citizen", subject="citizen-0002")

    assert client.get(f"/api/v1/my/complaints/{filed['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/my/complaints", headers=other).json() == {"data": [], "count": 0}
    refused = client.post(f"/api/v1/my/complaints/{filed['id']}/feedback", json={"resolved": True}, headers=other)
    assert_problem(refused, 404, "complaint_id", "exists")


def test_assigned_answered_by_the_institution_seen_by_the_complainant_and_closed_upheld(
        client, session, admin, registrar, citizen, filed, funeral_home):
    path = f"/api/v1/complaints/{filed['id']}"
    too_early = client.post(f"{path}/answer", json={"answer": "已核实"}, headers=registrar)
    assigned = client.post(f"{path}/assign", headers=admin)
    answered = client.post(f"{path}/answer", json={"answer": "经核实，已对当事员工批评教育并退还费用。"}, headers=registrar)
    seen = client.get(f"/api/v1/my/complaints/{filed['id']}", headers=citizen).json()
    feedback = client.post(f"/api/v1/my/complaints/{filed['id']}/feedback", json={"resolved": True}, headers=citizen)
    closed = client.post(f"{path}/close", json={"upheld": True}, headers=admin)
    year = datetime.fromisoformat(filed["received_at"]).year
    counts = client.get(f"/api/v1/complaints/counts?year={year}", headers=admin).json()

    assert_problem(too_early, 409, "status", "complaint_status")
    assert assigned.json()["status"] == "assigned"
    assert answered.json()["status"] == "answered" and answered.json()["answered_on_time"] is True
    assert seen["answer"] == "经核实，已对当事员工批评教育并退还费用。"
    assert feedback.json()["resolved"] is True
    assert closed.json()["status"] == "closed" and closed.json()["upheld"] is True
    assert counts == {"year": year, "data": [{"institution_id": funeral_home["id"], "year": year, "received": 1,
                                              "upheld": 1, "overdue": 0, "answered_on_time": 1}]}
    assert [e.event_type for e in events(session)] == [
        "complaint.received", "complaint.assigned", "complaint.answered", "complaint.closed"]
    assert all("退还" not in e.payload for e in events(session))


def test_another_institutions_registrar_neither_sees_nor_answers_it(client, mint, admin, filed):
    from factories import create_institution
    other = create_institution(client, admin)
    stranger = mint("registrar", institution_id=uuid.UUID(other["id"]), subject="registrar-other")
    client.post(f"/api/v1/complaints/{filed['id']}/assign", headers=admin)

    assert client.get(f"/api/v1/complaints/{filed['id']}", headers=stranger).status_code == 404
    assert client.get("/api/v1/complaints", headers=stranger).json()["count"] == 0
    refused = client.post(f"/api/v1/complaints/{filed['id']}/answer", json={"answer": "不是我们"}, headers=stranger)
    assert_problem(refused, 404, "complaint_id", "exists")


def test_the_ministry_sees_counts_but_never_a_complaint(client, mint, filed):
    ministry = mint("ministry-operator")
    assert client.get("/api/v1/complaints/counts?year=2026", headers=ministry).status_code == 200
    assert client.get(f"/api/v1/complaints/{filed['id']}", headers=ministry).status_code == 403


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"text": "<script>alert(1)</script>"}, "text", "no_markup"),
    ({"text": ""}, "text", "string_too_short"),
    ({"contact": "call me"}, "contact", "string_pattern_mismatch"),
    ({"category": "rude"}, "category", "enum"),
    ({"extra": 1}, "extra", "extra_forbidden"),
])
def test_bad_input_is_refused_and_nothing_written(expect_refusal, citizen, funeral_home, change, field, rule):
    body = {**COMPLAINT, "institution_id": funeral_home["id"], **change}
    expect_refusal("/api/v1/my/complaints", body, citizen, 422, field, rule, Complaint)


def test_an_unknown_institution_is_refused(expect_refusal, citizen):
    body = {**COMPLAINT, "institution_id": str(uuid.uuid4())}
    expect_refusal("/api/v1/my/complaints", body, citizen, 404, "institution_id", "exists", Complaint)


def _principal(subject, *roles, permissions=()):
    return Principal(subject=subject, roles=frozenset(roles), permissions=frozenset(permissions))


def _file_at(app, session, institution_id, now) -> Complaint:
    citizen = _principal("citizen-0001", "citizen", permissions={Permission.services_apply})
    created = service.submit(session, ctx=app.state.ctx, principal=citizen, now=now,
                             data=ComplaintCreate(institution_id=institution_id, category="pricing", text=TEXT,
                                                  contact="13800001234"))
    return session.get(Complaint, created.id)


def test_the_answer_is_due_in_working_days_holidays_not_counted(app, session, funeral_home):
    # filed on the eve of the 2026 National Day holiday: 1-7 October off, Saturday 10 October worked (调休), so the
    # 15th working day is 27 October (8, 9, 10, 12-16, 19-23, 26, 27)
    filed = _file_at(app, session, uuid.UUID(funeral_home["id"]), datetime(2026, 9, 30, 2, tzinfo=UTC))

    assert limits.TIME_LIMITS["answer"].working_days == 15
    assert filed.due_on == workdays.add_working_days(date(2026, 9, 30), 15) == date(2026, 10, 27)


def test_overdue_complaints_are_escalated_once_and_read_as_escalated_before_the_sweep(app, client, session, admin,
                                                                                      funeral_home):
    ctx, received = app.state.ctx, datetime(2026, 3, 2, 2, tzinfo=UTC)
    late = _file_at(app, session, uuid.UUID(funeral_home["id"]), received)
    on_time = _file_at(app, session, uuid.UUID(funeral_home["id"]), received + timedelta(days=20))
    after_limit = datetime.combine(late.due_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)

    before_sweep = queries.to_public(ctx, late, now=after_limit)
    listed, _ = queries.list_complaints(session, conditions=[], now=after_limit)
    first = service.escalate_overdue(session, ctx=ctx, now=after_limit)
    second = service.escalate_overdue(session, ctx=ctx, now=after_limit + timedelta(days=1))

    assert (before_sweep.status, before_sweep.overdue) == ("escalated", True)
    assert [row.id for row in listed] == [late.id, on_time.id]  # overdue first, though filed earlier anyway
    assert (first, second) == (1, 0)
    assert [e.event_type for e in events(session)].count("complaint.escalated") == 1
    # the gauge reads the real clock, by which both (filed in March 2026) are past their limit
    assert b"fsp_complaints_overdue 2.0" in client.get("/metrics").content

    # the bureau answers it; late, so it counts as overdue, not as answered on time
    answered = client.post(f"/api/v1/complaints/{late.id}/answer", json={"answer": "省厅已督办"}, headers=admin).json()
    session.rollback()
    [counts] = queries.counts(session, year=2026, now=after_limit).data
    assert answered["answered_on_time"] is False and answered["overdue"] is True
    assert (counts.received, counts.overdue, counts.answered_on_time) == (2, 1, 0)


def test_the_queue_filters_by_effective_status(app, session, funeral_home):
    received = datetime(2026, 3, 2, 2, tzinfo=UTC)
    row = _file_at(app, session, uuid.UUID(funeral_home["id"]), received)
    later = datetime.combine(row.due_on + timedelta(days=3), datetime.min.time(), tzinfo=UTC)

    assert queries.list_complaints(session, conditions=[], status="received", now=later)[1] == 0
    assert queries.list_complaints(session, conditions=[], status="escalated", now=later)[1] == 1
    assert queries.list_complaints(session, conditions=[], overdue=False, now=later)[1] == 0
    assert queries.list_complaints(session, conditions=[], status="received", now=received)[1] == 1
