"""Delivering confirmed deaths to departments: their own fields only, signed, once, audited, resumable."""
import json
import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import select

from factories import case_payload, create_institution, resident_id
from infra.ensure.keys import ensure_tenant_keys
from kc_double.runner import BackgroundServer
from registry import tenant_status
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.exchange.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_HEADER,
    BatchSigner,
    add_signing_version,
    public_key_set,
)
from registry.security import crypto
from registry.security.keys import load_keys
from registry.sharing import service as sharing
from registry.sharing.departments import DEPARTMENTS
from tenants.spec import Department as CatalogDepartment

BEIJING = sharing.Province("beijing", "110000")


class Receiver:
    """A department's endpoint: checks the province's signature, keeps what it received, or fails on demand."""

    def __init__(self, public_keys: bytes):
        self.public_keys = public_keys  # the province's key set (two during a signing key rotation)
        self.signatures: list[str] = []
        self.batches: list[dict] = []
        self.answer_status: int | None = None
        self.app = FastAPI()

        @self.app.post("/notices")
        async def notices(request: Request):
            body = await request.body()
            signature = request.headers.get(SIGNATURE_HEADER, "")
            if not crypto.verify_signature(crypto.parse_public_keys(self.public_keys.decode()), body, signature):
                return JSONResponse({"error": "bad signature"}, status_code=401)
            self.signatures.append(signature)
            if self.answer_status is not None:
                return JSONResponse({"error": "unavailable"}, status_code=self.answer_status)
            batch = json.loads(body)
            self.batches.append(batch)
            return {"received_through": batch["last_seq"]}

    @property
    def notices(self) -> list[dict]:
        return [notice for batch in self.batches for notice in batch["notices"]]


@pytest.fixture
def keys_dir(settings):
    ensure_tenant_keys(settings.keys_dir)  # the exchange pair signs deliveries too
    return settings.keys_dir


@pytest.fixture
def receiver(keys_dir):
    department = Receiver(public_key_set(keys_dir))
    with BackgroundServer(department.app) as url:
        department.url = url
        yield department


@pytest.fixture
def deaths(client, mint):
    """Three declared cases, two of them registered by a reviewer, and one archived case imported."""
    admin = mint("provincial-admin")
    home = create_institution(client, admin, type="crematorium")
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    reviewer = mint("reviewer")
    declared = []
    for n in range(3):
        birth = date(1940, 6, n + 1)
        payload = case_payload(home["id"], deceased_name=f"共享逝者{n}", birth_date=birth.isoformat(),
                               id_number=resident_id(birth=birth, seq=n), death_certificate_no=f"S-{n:05d}")
        response = client.post("/api/v1/cases", json=payload, headers=registrar)
        assert response.status_code == 201, response.text
        declared.append((response.json()["id"], payload))
    for case_id, _ in declared[:2]:
        assert client.post(f"/api/v1/cases/{case_id}/register", headers=reviewer).status_code == 200
    birth = date(1930, 1, 9)
    archived = case_payload(home["id"], deceased_name="档案中人", birth_date=birth.isoformat(),
                            id_number=resident_id(birth=birth, seq=9), archive_ref="BJ-2010/000009",
                            death_at="2010-03-03T03:00:00+08:00")
    imported = client.post("/api/v1/cases/imports", json={"records": [archived]}, headers=admin).json()
    assert imported["created"] == 1
    return {"registered": declared[:2], "unconfirmed": declared[2],
            "imported": (imported["results"][0]["case_id"], archived)}


def _deliver(app, keys_dir, receiver, key: str, **kwargs) -> sharing.DeliveryReport:
    with httpx.Client(timeout=10) as client:
        return sharing.deliver(app.state.ctx.journal, load_keys(keys_dir), DEPARTMENTS[key], url=receiver.url,
                               signer=BatchSigner(keys_dir), client=client, province=BEIJING, actor="tester",
                               **kwargs)


def test_confirmed_deaths_reach_public_security_with_its_fields_and_full_id_numbers(app, keys_dir, receiver,
                                                                                   deaths):
    report = _deliver(app, keys_dir, receiver, "public_security")

    assert report.notices == 3 and report.batches == 1
    (batch,) = receiver.batches
    assert (batch["province"], batch["province_code"], batch["department"]) == ("beijing", "110000",
                                                                                "public_security")
    by_case = {notice["case_id"]: notice for notice in receiver.notices}
    # registered and imported cases only: the unconfirmed declaration is not shared
    assert set(by_case) == {deaths["registered"][0][0], deaths["registered"][1][0], deaths["imported"][0]}
    first_id, first_payload = deaths["registered"][0]
    notice = by_case[first_id]
    assert set(notice) == {"seq", "event", "case_id", *DEPARTMENTS["public_security"].fields}
    assert (notice["event"], notice["id_number"], notice["name"]) == ("case.registered", first_payload["id_number"],
                                                                      first_payload["deceased_name"])
    assert by_case[deaths["imported"][0]]["event"] == "case.imported"


def test_health_never_gets_an_id_number(app, keys_dir, receiver, deaths):
    _deliver(app, keys_dir, receiver, "health")

    assert len(receiver.notices) == 3
    assert all("id_number" not in notice and notice["death_certificate_no"] for notice in receiver.notices)


def test_a_second_delivery_sends_nothing_and_each_disclosure_is_audited_without_the_data(app, keys_dir, receiver,
                                                                                       deaths, session):
    # 7 events: the institution, 3 declarations, 2 registrations, 1 import; 5 at a time: the first registration,
    # then the second and the import
    _deliver(app, keys_dir, receiver, "social_security", batch_size=5)
    batches = len(receiver.batches)
    assert batches == 2

    again = _deliver(app, keys_dir, receiver, "social_security")

    assert (again.notices, again.batches, len(receiver.batches)) == (0, 0, batches)
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "sharing.deliver")).all()
    assert len(entries) == batches and sum(json.loads(e.detail)["people"] for e in entries) == 3
    assert all(e.object_id == "social_security" and e.actor == "tester" for e in entries)
    assert not any(payload["id_number"] in e.detail for _, payload in deaths["registered"] for e in entries)
    assert audit.verify(session, anchor=app.state.ctx.journal.anchor).ok


def test_a_department_that_is_down_gets_everything_once_it_is_back(app, keys_dir, receiver, deaths, session):
    receiver.answer_status = 503

    with pytest.raises(sharing.DeliveryError) as refused:
        _deliver(app, keys_dir, receiver, "minimum_living")

    assert refused.value.reason == "unavailable"
    assert sharing.pending(session, "minimum_living") == (0, 3)  # nothing moved
    receiver.answer_status = None
    assert _deliver(app, keys_dir, receiver, "minimum_living").notices == 3
    session.rollback()
    assert sharing.pending(session, "minimum_living")[1] == 0


def test_nothing_is_delivered_while_the_tenant_is_suspended_and_everything_after_resume(app, keys_dir, receiver,
                                                                                        deaths, session):
    journal = app.state.ctx.journal
    assert tenant_status.change(session, journal, state=tenant_status.SUSPENDED, reason="迁移", actor="ops")

    paused = _deliver(app, keys_dir, receiver, "minimum_living")

    assert (paused.paused, paused.notices, receiver.batches) == (True, 0, [])
    session.rollback()
    assert sharing.pending(session, "minimum_living") == (0, 3)
    assert tenant_status.change(session, journal, state=tenant_status.ACTIVE, reason=None, actor="ops")
    resumed = _deliver(app, keys_dir, receiver, "minimum_living")
    assert (resumed.paused, resumed.notices) == (False, 3)


def test_a_department_that_does_not_trust_the_key_refuses_and_nothing_moves(app, keys_dir, receiver, deaths,
                                                                           tmp_path, session):
    stranger = tmp_path / "stranger-keys"
    ensure_tenant_keys(stranger)
    with httpx.Client(timeout=10) as client, pytest.raises(sharing.DeliveryError) as refused:
        sharing.deliver(app.state.ctx.journal, load_keys(keys_dir), DEPARTMENTS["marriage"], url=receiver.url,
                        signer=BatchSigner(stranger), client=client, province=BEIJING, actor="tester")

    assert refused.value.reason == "refused" and "401" in str(refused.value)
    assert sharing.pending(session, "marriage") == (0, 3)


def test_the_catalog_knows_the_same_departments():
    assert set(CatalogDepartment.__args__) == set(DEPARTMENTS)


def test_a_correction_of_a_shared_case_is_shared_again_but_not_one_of_an_unconfirmed_case(app, client, mint,
                                                                                        keys_dir, receiver, deaths):
    _deliver(app, keys_dir, receiver, "public_security")
    home = client.get(f"/api/v1/cases/{deaths['registered'][0][0]}", headers=mint("reviewer")).json()
    registrar = mint("registrar", institution_id=uuid.UUID(home["institution_id"]))
    for case_id, _ in (deaths["registered"][0], deaths["unconfirmed"]):
        response = client.post(f"/api/v1/cases/{case_id}/corrections", headers=registrar,
                               json={"changes": {"deceased_name": "更正后姓名"}, "reason": "姓名录入错误"})
        assert response.status_code == 200, response.text

    report = _deliver(app, keys_dir, receiver, "public_security")

    assert report.notices == 1
    notice = receiver.batches[-1]["notices"][0]
    assert (notice["event"], notice["case_id"], notice["name"]) == ("case.corrected", deaths["registered"][0][0],
                                                                    "更正后姓名")


def test_after_a_signing_key_rotation_notices_are_signed_with_sm2_and_the_department_accepts_them(
        app, keys_dir, receiver, deaths, client, mint):
    for path in keys_dir.glob("exchange-signing.v*"):  # a province provisioned before the switch: Ed25519
        path.unlink()
    private_pem, public_pem = crypto.new_exchange_signing_key()
    (keys_dir / PRIVATE_KEY_FILE).write_bytes(private_pem)
    (keys_dir / PUBLIC_KEY_FILE).write_bytes(public_pem)
    receiver.public_keys = public_key_set(keys_dir)
    signer = BatchSigner(keys_dir)  # a delivery process running through the rotation
    assert _deliver_with(app, keys_dir, receiver, signer).notices == 3
    assert receiver.signatures and not any(s.startswith("sm2:") for s in receiver.signatures)  # Ed25519, as before

    add_signing_version(keys_dir, publish=lambda: setattr(receiver, "public_keys", public_key_set(keys_dir)))
    case_id = deaths["unconfirmed"][0]
    assert client.post(f"/api/v1/cases/{case_id}/register", headers=mint("reviewer")).status_code == 200
    assert _deliver_with(app, keys_dir, receiver, signer).notices == 1
    assert receiver.signatures[-1].startswith("sm2:") and receiver.notices[-1]["case_id"] == case_id


def _deliver_with(app, keys_dir, receiver, signer) -> sharing.DeliveryReport:
    with httpx.Client(timeout=10) as client:
        return sharing.deliver(app.state.ctx.journal, load_keys(keys_dir), DEPARTMENTS["public_security"],
                               url=receiver.url, signer=signer, client=client, province=BEIJING, actor="tester")
