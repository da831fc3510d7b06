"""Cremation certificates: issue, reissue, cancel; never two valid ones for a case, in the service and the database."""
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from factories import create_institution, declare_case
from registry.audit.models import AuditEntry
from registry.cremations.models import Certificate, CertificateStatus, Cremation
from registry.cremations.service import certificate_number
from registry.outbox.models import OutboxEvent

NUMBER = re.compile(r"^110000-(\d{4})-(\d{6})$")


def _path(case: dict, action: str = "") -> str:
    return f"/api/v1/cases/{case['id']}/certificates" + (f"/{action}" if action else "")


def _issue(client, headers, case: dict) -> dict:
    response = client.post(_path(case), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _seq(number: str) -> int:
    return int(NUMBER.match(number).group(2))


def test_issue_reissue_cancel_keeps_at_most_one_valid_certificate(client, app, session, registrar, cremated_case):
    first = _issue(client, registrar, cremated_case)
    assert first["status"] == "valid" and first["replaces_id"] is None and first["cancelled_at"] is None
    assert NUMBER.match(first["number"]), first["number"]

    response = client.post(_path(cremated_case, "reissue"), json={"reason": "原件遗失"}, headers=registrar)
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["status"] == "valid" and second["replaces_id"] == first["id"]
    assert second["number"] != first["number"]
    listing = client.get(_path(cremated_case), headers=registrar).json()
    assert [c["id"] for c in listing["data"]] == [second["id"], first["id"]], "newest first"
    replaced = listing["data"][1]
    assert (replaced["status"], replaced["cancel_reason"]) == ("cancelled", "原件遗失")
    assert replaced["cancelled_at"] is not None

    response = client.post(_path(cremated_case, "cancel"), json={"reason": "信息有误，作废"}, headers=registrar)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["status"]) == (second["id"], "cancelled")
    listing = client.get(_path(cremated_case), headers=registrar).json()
    assert {c["status"] for c in listing["data"]} == {"cancelled"} and listing["count"] == 2

    third = _issue(client, registrar, cremated_case)
    assert third["replaces_id"] is None
    assert [_seq(c["number"]) for c in (first, second, third)] == [1, 2, 3]

    events = session.exec(select(OutboxEvent).where(col(OutboxEvent.event_type).startswith("certificate."))
                          .order_by(col(OutboxEvent.seq))).all()
    assert [(e.event_type, e.aggregate_id) for e in events] == [
        ("certificate.issued", first["id"]), ("certificate.reissued", second["id"]),
        ("certificate.cancelled", second["id"]), ("certificate.issued", third["id"])]
    reissued = json.loads(events[1].payload)
    assert reissued["number"] == second["number"] and reissued["replaced"]["id"] == first["id"]
    assert reissued["replaced"]["status"] == "cancelled"
    actions = session.exec(select(AuditEntry.action).where(col(AuditEntry.action).startswith("certificate."))
                           .order_by(col(AuditEntry.seq))).all()
    assert actions == ["certificate.issue", "certificate.reissue", "certificate.cancel", "certificate.issue"]
    metrics = app.state.ctx.metrics.registry
    assert metrics.get_sample_value("fsp_certificates_issued_total") == 3
    assert metrics.get_sample_value("fsp_certificates_cancelled_total") == 2


def test_issuing_while_one_is_valid_is_a_conflict(client, registrar, cremated_case, expect_refusal):
    first = _issue(client, registrar, cremated_case)
    body = expect_refusal(_path(cremated_case), None, registrar, 409, "case_id", "one_valid_certificate", Certificate)
    assert body["errors"][0]["existing_number"] == first["number"]


def test_a_certificate_needs_a_cremation(client, registrar, registered_case, expect_refusal):
    expect_refusal(_path(registered_case), None, registrar, 409, "case_id", "cremation_required", Certificate)


@pytest.mark.parametrize("action", ["reissue", "cancel"])
def test_reissue_and_cancel_need_a_valid_certificate(client, registrar, cremated_case, expect_refusal, action):
    expect_refusal(_path(cremated_case, action), {"reason": "原件遗失"}, registrar, 409, "case_id",
                   "valid_certificate_required", Certificate)
    _issue(client, registrar, cremated_case)
    assert client.post(_path(cremated_case, "cancel"), json={"reason": "作废"}, headers=registrar).status_code == 200
    expect_refusal(_path(cremated_case, action), {"reason": "原件遗失"}, registrar, 409, "case_id",
                   "valid_certificate_required", Certificate)


@pytest.mark.parametrize("action", ["reissue", "cancel"])
@pytest.mark.parametrize("body, rule", [({}, "missing"), ({"reason": "x"}, "string_too_short")])
def test_reissue_and_cancel_need_a_reason(client, session, registrar, cremated_case, expect_refusal, action, body,
                                          rule):
    valid = _issue(client, registrar, cremated_case)
    expect_refusal(_path(cremated_case, action), body, registrar, 422, "reason", rule, Certificate)
    assert session.get(Certificate, uuid.UUID(valid["id"])).status == CertificateStatus.valid


def test_numbers_run_across_the_tenants_cases(client, registrar, cremated_case, funeral_home, register,
                                              cremation_payload):
    other = register(declare_case(client, registrar, funeral_home["id"]))
    assert client.post(f"/api/v1/cases/{other['id']}/cremation", json=cremation_payload(funeral_home["id"]),
                       headers=registrar).status_code == 201
    numbers = [_issue(client, registrar, case)["number"] for case in (cremated_case, other)]
    assert [_seq(n) for n in numbers] == [1, 2]


def test_the_number_carries_the_year_of_issue_in_china():
    new_year_in_beijing = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert certificate_number(tenant_code="110000", issued_at=new_year_in_beijing, seq=42) == "110000-2026-000042"
    still_2025 = datetime(2025, 12, 31, 15, 59, tzinfo=UTC)
    assert certificate_number(tenant_code="310000", issued_at=still_2025, seq=1234567) == "310000-2025-1234567"


def test_the_database_refuses_a_second_valid_certificate(client, session, registrar, cremated_case):
    first = _issue(client, registrar, cremated_case)
    cremation = session.exec(select(Cremation).where(Cremation.case_id == uuid.UUID(cremated_case["id"]))).one()

    session.add(Certificate(case_id=cremation.case_id, cremation_id=cremation.id, number="110000-2026-900001"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()

    # the index is partial: cancelled certificates of the same case are fine
    session.add(Certificate(case_id=cremation.case_id, cremation_id=cremation.id, number="110000-2026-900002",
                            status=CertificateStatus.cancelled, cancelled_at=datetime.now(UTC), cancel_reason="测试"))
    session.commit()
    statuses = session.exec(select(Certificate.status).where(Certificate.case_id == cremation.case_id)).all()
    assert sorted(statuses) == ["cancelled", "valid"], f"only {first['number']} is valid"


def test_a_reviewer_cannot_issue(client, mint, cremated_case, expect_refusal):
    expect_refusal(_path(cremated_case), None, mint("reviewer"), 403, "authorization", "permission", Certificate)


def test_another_institutions_registrar_cannot_see_the_case(client, mint, admin, cremated_case, expect_refusal):
    other = create_institution(client, admin, type="funeral_home")
    outsider = mint("registrar", institution_id=uuid.UUID(other["id"]))
    expect_refusal(_path(cremated_case), None, outsider, 404, "case_id", "exists", Certificate)
    assert client.get(_path(cremated_case), headers=outsider).status_code == 404


def test_only_the_cremating_institution_issues(client, session, mint, admin, registrar, funeral_home, register,
                                               cremation_payload, expect_refusal):
    # a cremation recorded elsewhere (e.g. backfilled from paper archives): the case's registrar may not certify it
    crematorium = create_institution(client, admin, type="crematorium")
    case = register(declare_case(client, registrar, funeral_home["id"]))
    record = cremation_payload(crematorium["id"])
    session.add(Cremation(case_id=uuid.UUID(case["id"]), institution_id=uuid.UUID(crematorium["id"]),
                          furnace_no="F-1", operator_name="李师傅",
                          started_at=datetime.fromisoformat(record["started_at"]),
                          ended_at=datetime.fromisoformat(record["ended_at"])))
    session.commit()
    expect_refusal(_path(case), None, registrar, 403, "institution_id", "institution_binding", Certificate)
