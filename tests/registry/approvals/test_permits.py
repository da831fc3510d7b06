"""An approved transport produces a permit: numbered, with a QR signed by the tenant's SM2 key that the receiving
province checks offline with the public key alone, and anyone checks online without learning about the deceased."""
import json
from datetime import date

import pytest
from sqlmodel import select

from factories import facility_approval_payload, submit_approval, transport_approval_payload
from registry import signed_documents
from registry.approvals.models import TransportPermit
from registry.outbox.models import OutboxEvent
from registry.security import crypto


def _approved(client, mint, citizen, payload):
    approval = submit_approval(client, citizen, payload)["approval"]
    reviewer, decider = mint("reviewer"), mint("provincial-admin")
    for step, headers in (("accept", reviewer), ("review", reviewer), ("approve", decider)):
        assert client.post(f"/api/v1/approvals/{approval['id']}/{step}", headers=headers).status_code == 200
    return client.get(f"/api/v1/my/approvals/{approval['id']}", headers=citizen).json()


def test_an_approved_transport_has_a_permit_whose_qr_verifies_offline(client, session, app, mint, citizen):
    payload = transport_approval_payload()
    permit = _approved(client, mint, citizen, payload)["permit"]
    assert permit["number"].startswith("110000-YZ-") and permit["vehicle_plate"] == "京A12345"
    claim = signed_documents.parse(permit["qr_text"])  # any kind: the receiving province need not know which
    assert claim.kind == signed_documents.PERMIT and claim.number == permit["number"]
    assert claim.extra == {"to_region": "310101", "planned_on": payload["transport"]["planned_on"],
                           "vehicle_plate": "京A12345"}
    published = client.get("/.well-known/fsp-certificate-key").json()["public_key"]  # all the receiver holds
    assert claim.signed_by(published)
    assert "张三" not in permit["qr_text"] and payload["transport"]["id_number"] not in permit["qr_text"]
    session.rollback()
    issued = session.exec(select(OutboxEvent).where(OutboxEvent.event_type == "permit.issued")).one()
    assert json.loads(issued.payload)["number"] == permit["number"] and "张三" not in issued.payload


def test_a_tampered_or_foreign_permit_fails_offline(client, mint, citizen):
    permit = _approved(client, mint, citizen, transport_approval_payload())["permit"]
    published = client.get("/.well-known/fsp-certificate-key").json()["public_key"]
    claim = signed_documents.parse(permit["qr_text"])
    tampered = signed_documents.parse_fields(claim.fields.replace("京A12345", "京B99999"), claim.signature)
    assert not tampered.signed_by(published)
    assert not claim.signed_by(crypto.new_sm2_key()[1])
    with pytest.raises(signed_documents.UnreadableQr):  # a permit is not a certificate
        signed_documents.parse(permit["qr_text"], signed_documents.CERTIFICATE)


def test_a_facility_approval_has_no_permit(client, session, mint, citizen):
    assert _approved(client, mint, citizen, facility_approval_payload())["permit"] is None
    session.rollback()
    assert session.exec(select(TransportPermit)).all() == []


def test_anyone_checks_a_permit_by_number_and_check_code_or_qr(client, mint, citizen):
    permit = _approved(client, mint, citizen, transport_approval_payload())["permit"]
    answer = client.post("/api/v1/permit-verifications",
                         json={"number": permit["number"].lower(), "check_code": permit["check_code"].lower()}).json()
    assert answer["status"] == "valid" and answer["vehicle_plate"] == "京A12345" and answer["to_region"] == "310101"
    assert set(answer) == {"status", "number", "issued_on", "from_tenant", "to_region", "planned_on", "vehicle_plate"}
    assert client.post("/api/v1/permit-verifications", json={"qr": permit["qr_text"]}).json()["status"] == "valid"
    wrong = client.post("/api/v1/permit-verifications", json={"number": permit["number"], "check_code": "AAAAAAAA"})
    unknown = client.post("/api/v1/permit-verifications", json={"number": "110000-YZ-2026-999999", "check_code": "A"})
    assert wrong.json() == unknown.json() == {"status": "not_found", "number": None, "issued_on": None,
                                              "from_tenant": "110000", "to_region": None, "planned_on": None,
                                              "vehicle_plate": None}
    claim = signed_documents.parse(permit["qr_text"])
    forged = f"{claim.fields.replace('310101', '320102')}|{claim.signature}"
    assert client.post("/api/v1/permit-verifications", json={"qr": forged}).json()["status"] == "forged"
    assert client.post("/api/v1/permit-verifications", json={"number": permit["number"]}).status_code == 422


def test_wrong_guesses_are_limited_per_client(client, app):
    attempts = app.state.ctx.certificate_attempts
    for _ in range(attempts.max_failures):
        client.post("/api/v1/permit-verifications", json={"number": "110000-YZ-2026-000001", "check_code": "AAAA"})
    limited = client.post("/api/v1/permit-verifications", json={"number": "110000-YZ-2026-000001", "check_code": "A"})
    assert limited.status_code == 429 and limited.json()["errors"][0]["rule"] == "too_many_attempts"


def test_certificates_still_sign_and_parse_as_before(app):
    from registry.cremations import qr

    c, s = qr.sign(app.state.ctx.keys.certificate_key, tenant_code="110000", number="110000-2026-000001",
                   check_code="K7M2QX9A", issued_on=date(2026, 11, 30))
    assert c.startswith("FSPC1|110000|110000-2026-000001|K7M2QX9A|2026-11-30|") and c.count("|") == 5
    assert qr.parse(qr.url("https://fsp.example", c, s)).signed_by(app.state.ctx.keys.certificate_key.public_hex)
