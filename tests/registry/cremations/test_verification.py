"""Anyone checks a cremation certificate by number and check code, or by its signed QR code: status only."""
import json
import uuid

import pytest
from sqlmodel import col, select

from factories import create_institution
from registry.audit.models import AuditEntry
from registry.cremations import qr, verification
from registry.cremations.models import Certificate
from registry.outbox.models import OutboxEvent
from registry.security import crypto

VERIFY = "/api/v1/certificate-verifications"


def _issue(client, headers, case: dict, action: str = "") -> dict:
    response = client.post(f"/api/v1/cases/{case['id']}/certificates" + (f"/{action}" if action else ""),
                           json={"reason": "原件遗失"} if action else None, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _verify(client, number: str, check_code: str) -> dict:
    response = client.post(VERIFY, json={"number": number, "check_code": check_code})
    assert response.status_code == 200, response.text
    return response.json()


def _assert_nothing_personal(answer: dict, case: dict) -> None:
    text = json.dumps(answer, ensure_ascii=False)
    assert case["deceased_name"] not in text
    assert case["id_number"] not in text and case["id_number"][-4:] not in text
    assert "原件遗失" not in text, "the cancel reason is staff's free text"


@pytest.fixture
def full_case(client, registrar, cremated_case, mint):
    """The cremated case as a reviewer reads it, with the unmasked ID number."""
    reviewer = mint("reviewer")
    disclosed = client.get(f"/api/v1/cases/{cremated_case['id']}/id-number", headers=reviewer)
    assert disclosed.status_code == 200, disclosed.text
    return {**cremated_case, "id_number": disclosed.json()["id_number"]}


def test_staff_see_the_check_code_and_a_signed_qr(client, app, registrar, cremated_case, funeral_home):
    issued = _issue(client, registrar, cremated_case)
    assert len(issued["check_code"]) == qr.CHECK_CODE_LENGTH
    assert set(issued["check_code"]) <= set(qr.CHECK_CODE_ALPHABET)

    response = client.get(f"/api/v1/certificates/{issued['id']}", headers=registrar)
    assert response.status_code == 200, response.text
    printable = response.json()
    assert printable["check_code"] == issued["check_code"]
    assert printable["institution_name"] == funeral_home["name"]
    assert printable["qr_text"].startswith("http://testserver/certificates/verify?c=FSPC1%7C110000%7C")
    claim = qr.parse(printable["qr_text"])
    assert (claim.number, claim.check_code) == (issued["number"], issued["check_code"])

    published = client.get("/.well-known/fsp-certificate-key").json()  # no sign-in
    assert published["algorithm"] == "SM2-with-SM3" and published["tenant_code"] == "110000"
    assert claim.key_id == published["key_id"] and claim.signed_by(published["public_key"])
    assert not claim.signed_by(crypto.new_sm2_key()[1])


def test_the_check_code_stays_out_of_the_events_for_the_ministry(client, session, registrar, cremated_case):
    issued = _issue(client, registrar, cremated_case)
    payloads = session.exec(select(OutboxEvent.payload).where(col(OutboxEvent.event_type).startswith("certificate."))
                            ).all()
    assert payloads and all(issued["check_code"] not in payload for payload in payloads)


def test_statuses_valid_reissued_cancelled_without_personal_data(client, app, registrar, full_case, funeral_home):
    first = _issue(client, registrar, full_case)
    answer = _verify(client, first["number"], first["check_code"].lower())  # typed in lower case
    assert answer == {"status": "valid", "number": first["number"], "issued_on": answer["issued_on"],
                      "cancelled_on": None, "institution_name": funeral_home["name"]}
    _assert_nothing_personal(answer, full_case)

    second = _issue(client, registrar, full_case, "reissue")
    answer = _verify(client, first["number"], first["check_code"])
    assert answer["status"] == "reissued" and answer["cancelled_on"] is not None
    assert second["number"] not in json.dumps(answer), "a newer certificate exists; its number is not told"
    _assert_nothing_personal(answer, full_case)
    assert _verify(client, second["number"], second["check_code"])["status"] == "valid"

    _issue(client, registrar, full_case, "cancel")
    answer = _verify(client, second["number"], second["check_code"])
    assert answer["status"] == "cancelled" and answer["cancelled_on"] is not None
    _assert_nothing_personal(answer, full_case)

    outcomes = app.state.ctx.metrics.registry
    assert outcomes.get_sample_value("fsp_certificate_verifications_total", {"outcome": "valid"}) == 2
    assert outcomes.get_sample_value("fsp_certificate_verifications_total", {"outcome": "reissued"}) == 1
    assert outcomes.get_sample_value("fsp_certificate_verifications_total", {"outcome": "cancelled"}) == 1


def test_a_wrong_check_code_and_an_unknown_number_get_one_answer(client, app, registrar, cremated_case):
    issued = _issue(client, registrar, cremated_case)
    wrong_code = "A" * 8 if issued["check_code"] != "A" * 8 else "B" * 8
    wrong = client.post(VERIFY, json={"number": issued["number"], "check_code": wrong_code})
    unknown = client.post(VERIFY, json={"number": "110000-2026-999999", "check_code": issued["check_code"]})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.json() == unknown.json() == {"status": "not_found", "number": None, "issued_on": None,
                                               "cancelled_on": None, "institution_name": None}
    assert app.state.ctx.metrics.registry.get_sample_value(
        "fsp_certificate_verifications_total", {"outcome": "not_found"}) == 2


def test_wrong_guesses_are_limited_per_client_and_the_limit_audited_once(client, app, session, registrar,
                                                                         cremated_case):
    issued = _issue(client, registrar, cremated_case)
    limit = app.state.ctx.certificate_attempts.max_failures
    for n in range(limit):
        assert _verify(client, f"110000-2026-{n:06d}", "WRONGCOD")["status"] == "not_found"
    refused = client.post(VERIFY, json={"number": issued["number"], "check_code": issued["check_code"]})
    assert refused.status_code == 429 and refused.json()["errors"][0]["rule"] == "too_many_attempts"
    assert refused.json()["errors"][0]["message"] == "查验错误次数过多，请稍后再试。"
    assert client.post(VERIFY, json={"number": "x", "check_code": "y"}).status_code == 429
    session.rollback()
    audited = session.exec(select(AuditEntry).where(AuditEntry.action == "certificate.verify")).all()
    assert len(audited) == 1, "one entry when the limit trips, not one per refused request"
    assert app.state.ctx.metrics.registry.get_sample_value(
        "fsp_certificate_verifications_total", {"outcome": "limited"}) == 2


def test_a_tampered_or_foreign_qr_is_forged(client, app, session, registrar, cremated_case):
    issued = _issue(client, registrar, cremated_case)
    claim = qr.parse(client.get(f"/api/v1/certificates/{issued['id']}", headers=registrar).json()["qr_text"])
    ctx = app.state.ctx

    def scanned(c: str, s: str) -> verification.Outcome:
        return verification.check_qr(session, ctx=ctx, client="phone", c=c, s=s).outcome

    assert scanned(claim.fields, claim.signature) == verification.Outcome.valid
    other = claim.fields.replace(issued["number"], issued["number"][:-1] + "9")
    assert scanned(other, claim.signature) == verification.Outcome.forged
    foreign_private, foreign_public = crypto.new_sm2_key()
    assert scanned(claim.fields, crypto.sm2_sign(foreign_private, foreign_public, claim.fields.encode())) == "forged"
    assert scanned("not a certificate", claim.signature) == verification.Outcome.forged


def test_a_certificate_is_read_only_by_who_may_read_its_case(client, mint, admin, registrar, cremated_case):
    issued = _issue(client, registrar, cremated_case)
    path = f"/api/v1/certificates/{issued['id']}"
    assert client.get(path, headers=mint("reviewer")).status_code == 200
    other = create_institution(client, admin, type="funeral_home")
    outsider = mint("registrar", institution_id=uuid.UUID(other["id"]))
    hidden = client.get(path, headers=outsider)
    assert hidden.status_code == 404 and hidden.json()["errors"][0]["field"] == "certificate_id"
    assert client.get(path, headers=mint("auditor")).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get(f"/api/v1/certificates/{uuid.uuid4()}", headers=registrar).status_code == 404


def test_a_development_app_never_replaces_a_lost_certificate_key(client, settings, registrar, cremated_case):
    from registry.app import create_app
    from registry.security.keys import CERTIFICATE_KEY, CERTIFICATE_PUBLIC_KEY, KeyMaterialError

    _issue(client, registrar, cremated_case)
    for name in (CERTIFICATE_KEY, CERTIFICATE_PUBLIC_KEY):
        (settings.keys_dir / name).unlink()
    with pytest.raises(KeyMaterialError, match="issued certificates"):
        create_app(settings)


def test_check_codes_are_stored_for_every_certificate(client, session, registrar, cremated_case):
    issued = _issue(client, registrar, cremated_case)
    session.rollback()
    assert session.get(Certificate, uuid.UUID(issued["id"])).check_code == issued["check_code"]


def test_the_migration_gives_existing_certificates_a_check_code(client, app, database_url, run_alembic, registrar,
                                                                cremated_case):
    from alembic import command
    from sqlalchemy import create_engine, text

    issued = _issue(client, registrar, cremated_case)
    app.state.ctx.engine.dispose()
    run_alembic(database_url, command.downgrade, "0012")  # as before check codes: the column is gone
    run_alembic(database_url, command.upgrade, "head")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            codes = connection.execute(text("SELECT number, check_code FROM cremation_certificates")).all()
    finally:
        engine.dispose()
    assert [number for number, _ in codes] == [issued["number"]]
    assert len(codes[0][1]) == qr.CHECK_CODE_LENGTH and set(codes[0][1]) <= set(qr.CHECK_CODE_ALPHABET)
