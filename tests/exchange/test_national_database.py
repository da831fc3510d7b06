"""The national database at the ministry: current records from the provinces' batches (replays and corrections
leave one record), people matched across provinces by their blind index, and an audited read-only API."""
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from assertions import assert_problem, last_audit
from factories import case_payload, create_institution, declare_case
from infra.ensure.keys import ensure_tenant_keys
from national_events import PERSON
from national_events import ashes as _ashes
from national_events import batch as _batch
from national_events import case as _case
from national_events import certificate as _certificate
from national_events import cremation as _cremation
from national_events import interment as _interment
from registry.exchange import service as exchange
from registry.national import projection
from registry.national.models import (
    NationalAshesDestination,
    NationalCase,
    NationalCertificate,
    NationalCremation,
    NationalInterment,
    PersonMatch,
)

CHINA_TIME = ZoneInfo("Asia/Shanghai")






@pytest.fixture
def ministry_db(app):
    """A session on a migrated database standing for the ministry's (the receiving service needs nothing else)."""
    with Session(app.state.ctx.engine) as session:
        yield session


@pytest.fixture
def journal(app):
    return app.state.ctx.journal


def _records(session: Session) -> list[NationalCase]:
    session.rollback()
    return list(session.exec(select(NationalCase).order_by(NationalCase.province_slug)))


def test_a_case_is_one_record_at_its_latest_correction_and_status(ministry_db, journal):
    case = uuid.uuid4()
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("case.declared", case, _case(case)),
        ("case.corrected", case, _case(case, cause_category="accident", death_manner="abnormal")),
        ("case.registered", case, {"case_id": str(case), "from": "declared", "to": "registered"}),
    ]), journal=journal)
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [("case.declared", case, _case(case))]), journal=journal)  # a replay
    (record,) = _records(ministry_db)
    assert (record.province_slug, record.case_id, record.status) == ("beijing", case, "registered")
    assert (record.cause_category, record.death_manner, record.last_seq) == ("accident", "abnormal", 3)
    assert record.death_at == datetime(2026, 10, 1, 2, tzinfo=UTC) and record.person_ref == PERSON
    assert not hasattr(record, "deceased_name")  # the ministry keeps no names and no numbers


def test_an_older_event_never_overwrites_a_newer_one(ministry_db, journal):
    case = uuid.uuid4()
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("case.declared", case, _case(case)), ("case.corrected", case, _case(case, sex="2"))]), journal=journal)
    stale = _batch("beijing", 1, [("case.declared", case, _case(case))])
    projection.apply_events(ministry_db, province="beijing", province_code="110000", events=stale.events,
                            now=datetime.now(UTC))
    ministry_db.commit()
    assert [r.sex for r in _records(ministry_db)] == ["2"]


def test_one_person_in_two_provinces_is_matched_once_per_pair(ministry_db, journal):
    beijing, shandong, yunnan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    other = uuid.uuid4()
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("case.declared", beijing, _case(beijing)), ("case.declared", other, _case(other, person_ref="b" * 64))]), journal=journal)
    exchange.receive_batch(ministry_db, _batch("shandong", 1, [("case.declared", shandong, _case(shandong))]), journal=journal)
    exchange.receive_batch(ministry_db, _batch("shandong", 2, [
        ("case.corrected", shandong, _case(shandong, sex="1"))]), journal=journal)  # a correction finds no new pair
    exchange.receive_batch(ministry_db, _batch("yunnan", 1, [("case.declared", yunnan, _case(yunnan))]), journal=journal)
    ministry_db.rollback()
    pairs = {(m.province_a, m.case_a, m.province_b, m.case_b)
             for m in ministry_db.exec(select(PersonMatch)).all()}
    assert pairs == {("beijing", beijing, "shandong", shandong), ("beijing", beijing, "yunnan", yunnan),
                     ("shandong", shandong, "yunnan", yunnan)}


def test_events_of_other_shapes_stay_in_the_log_only(ministry_db, journal):
    case = uuid.uuid4()
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("case.declared", case, {"unexpected": True}),
        ("case.registered", case, {"case_id": str(case), "to": "registered"}),  # nothing to move yet
        ("cremation.recorded", case, {"case_id": str(case)}),
        ("certificate.reissued", case, {**_certificate(case, "C-2"), "replaced": {"unexpected": True}})]),
        journal=journal)
    assert _records(ministry_db) == []
    assert ministry_db.exec(select(NationalCremation)).all() == []
    assert ministry_db.exec(select(NationalCertificate)).all() == []  # not the successor alone either










def _all(session: Session, model) -> list:
    session.rollback()
    return [row.model_dump(exclude={"updated_at"}) for row in session.exec(select(model))]


RECORDS = (NationalCremation, NationalCertificate, NationalAshesDestination, NationalInterment)


def test_a_cremated_case_brings_its_cremation_certificate_ashes_and_interment_and_replays_change_nothing(
        ministry_db, journal):
    case = uuid.uuid4()
    events = [("case.declared", case, _case(case)), ("cremation.recorded", case, _cremation(case)),
              ("certificate.issued", case, _certificate(case, "C-1")),
              ("ashes_destination.recorded", case, _ashes(case)), ("interment.recorded", case, _interment(case))]
    exchange.receive_batch(ministry_db, _batch("beijing", 1, events), journal=journal)
    (cremation,) = _all(ministry_db, NationalCremation)
    assert cremation == {"province_slug": "beijing", "case_id": case, "cremation_id": uuid.uuid5(case, "cremation"),
                         "institution_id": uuid.UUID(int=7), "started_at": datetime(2026, 10, 2, 1, tzinfo=UTC),
                         "ended_at": datetime(2026, 10, 2, 2, 15, tzinfo=UTC), "last_seq": 2}
    (certificate,) = _all(ministry_db, NationalCertificate)
    assert (certificate["number"], certificate["status"], certificate["case_id"]) == ("C-1", "issued", case)
    (ashes,) = _all(ministry_db, NationalAshesDestination)
    assert (ashes["destination"], ashes["institution_id"], ashes["last_seq"]) == ("public_cemetery", uuid.UUID(int=8), 4)
    (interment,) = _all(ministry_db, NationalInterment)
    assert (interment["kind"], interment["case_id"], interment["interred_at"]) == (
        "burial", case, datetime(2026, 10, 4, 1, tzinfo=UTC))
    for model in RECORDS:  # the ministry keeps no operator, plot, niche or note
        assert not {"operator_name", "furnace_no", "plot_or_niche", "note"} & set(model.model_fields)
    before = {model: _all(ministry_db, model) for model in RECORDS}

    exchange.receive_batch(ministry_db, _batch("beijing", 1, events), journal=journal)  # resent as it was
    projection.apply_events(ministry_db, province="beijing", province_code="110000", now=datetime.now(UTC),
                            events=_batch("beijing", 1, [  # the same seqs again, whatever they say
                                events[0], ("cremation.recorded", case, _cremation(case, institution_id=str(case))),
                                ("certificate.issued", case, {**_certificate(case, "C-1"), "number": "C-9"}),
                                ("ashes_destination.recorded", case, _ashes(case, destination="sea_scattering")),
                                ("interment.recorded", case, _interment(case, kind="placement"))]).events)
    ministry_db.commit()
    assert {model: _all(ministry_db, model) for model in RECORDS} == before


def test_a_reissue_cancels_the_replaced_certificate_and_a_cancel_ends_the_successor(ministry_db, journal):
    case = uuid.uuid4()
    first = _certificate(case, "C-1")
    cancelled_first = {**first, "status": "cancelled", "cancelled_at": "2026-10-03T08:00:00+08:00"}
    second = _certificate(case, "C-2", issued_at="2026-10-03T08:00:00+08:00", replaces_id=first["id"])
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("certificate.issued", case, first),
        ("certificate.reissued", case, {**second, "replaced": cancelled_first})]), journal=journal)
    statuses = {c["number"]: (c["status"], c["cancelled_at"], c["replaces_id"])
                for c in _all(ministry_db, NationalCertificate)}
    assert statuses == {"C-1": ("cancelled", datetime(2026, 10, 3, 0, tzinfo=UTC), None),
                        "C-2": ("reissued", None, uuid.UUID(first["id"]))}

    exchange.receive_batch(ministry_db, _batch("beijing", 3, [("certificate.cancelled", case, {
        **second, "status": "cancelled", "cancelled_at": "2026-10-05T08:00:00+08:00"})]), journal=journal)
    assert {c["number"]: c["status"] for c in _all(ministry_db, NationalCertificate)} == {
        "C-1": "cancelled", "C-2": "cancelled"}


def test_an_older_certificate_event_never_overwrites_a_newer_one(ministry_db, journal):
    case = uuid.uuid4()
    certificate = _certificate(case, "C-1")
    exchange.receive_batch(ministry_db, _batch("beijing", 1, [
        ("certificate.issued", case, certificate),
        ("certificate.cancelled", case, {**certificate, "status": "cancelled",
                                         "cancelled_at": "2026-10-03T08:00:00+08:00"})]), journal=journal)
    stale = _batch("beijing", 1, [("certificate.issued", case, certificate)])
    projection.apply_events(ministry_db, province="beijing", province_code="110000", events=stale.events,
                            now=datetime.now(UTC))
    ministry_db.commit()
    (record,) = _all(ministry_db, NationalCertificate)
    assert (record["status"], record["last_seq"]) == ("cancelled", 2)


@pytest.fixture
def settings(settings, tmp_path: Path):
    """beijing's, its keys with the provinces' shared person-matching key as `fsp up` provisions them, before the
    app reads them (made after, the app would send no person_ref and the comparisons below would be None == None)."""
    ensure_tenant_keys(settings.keys_dir, fleet_keys=tmp_path / "fleet")
    return settings


@pytest.fixture
def province_keys(settings) -> Path:
    return settings.keys_dir


def _ministry_token(ministry_settings, subject: str, role: str) -> dict:
    """A bearer header minted by the ministry's development issuer."""
    from registry.app import create_app

    ministry_app = create_app(ministry_settings)
    try:
        return {"Authorization": "Bearer " + ministry_app.state.ctx.issuer.mint(subject, [role])}
    finally:
        ministry_app.state.ctx.engine.dispose()


def test_shipped_cases_reach_the_national_database_and_the_ministry_reads_them_audited(
        app, client, mint, make_shipper, ministry_url, ministry_session, ministry_settings):
    admin = mint("provincial-admin")
    home = create_institution(client, admin)
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    death = datetime.now(UTC) - timedelta(days=3)
    payload = case_payload(home["id"], death_at=death.isoformat())
    created = client.post("/api/v1/cases", json=payload, headers=registrar).json()
    make_shipper(ministry_url).ship_pending()

    operator = _ministry_token(ministry_settings, "op-1", "ministry-operator")
    day = death.astimezone(CHINA_TIME).date().isoformat()
    found = httpx.get(f"{ministry_url}/api/v1/national/cases", headers=operator, timeout=10,
                      params={"province": "beijing", "died_from": day, "died_to": day}).json()
    assert found["count"] == 1
    (record,) = found["data"]
    assert record["case_id"] == created["id"]
    assert record["person_ref"] == app.state.ctx.person_ref("resident_id", payload["id_number"]) is not None
    assert payload["id_number"] not in json.dumps(found) and payload["deceased_name"] not in json.dumps(found)
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.action) == ("op-1", "national.search_cases")
    assert json.loads(entry.detail)["found"] == 1

    refused = httpx.get(f"{ministry_url}/api/v1/national/cases", headers=operator, params={"name": "x"}, timeout=10)
    assert_problem(refused, 422, "name", "extra_forbidden")
    registrar_at_ministry = _ministry_token(ministry_settings, "r", "registrar")
    assert httpx.get(f"{ministry_url}/api/v1/national/cases", headers=registrar_at_ministry,
                     timeout=10).status_code == 403
    assert client.get("/api/v1/national/cases", headers=admin).status_code == 404  # provinces have no such API




def test_a_shipped_cremated_case_is_read_at_the_ministry_with_its_cremation_and_certificate(
        client, mint, make_shipper, ministry_url, ministry_session, ministry_settings):
    home = create_institution(client, mint("provincial-admin"))
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    case = declare_case(client, registrar, home["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/register", headers=mint("reviewer")).status_code == 200
    started = datetime.now(UTC) - timedelta(hours=3)
    cremation = {"institution_id": home["id"], "started_at": started.isoformat(),
                 "ended_at": (started + timedelta(minutes=75)).isoformat(), "furnace_no": "F-03",
                 "operator_name": "李师傅"}
    assert client.post(f"/api/v1/cases/{case['id']}/cremation", json=cremation, headers=registrar).status_code == 201
    certificate = client.post(f"/api/v1/cases/{case['id']}/certificates", headers=registrar).json()
    make_shipper(ministry_url).ship_pending()

    operator = _ministry_token(ministry_settings, "op-1", "ministry-operator")
    response = httpx.get(f"{ministry_url}/api/v1/national/cases/beijing/{case['id']}", headers=operator, timeout=10)
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["case"]["case_id"], record["case"]["status"]) == (case["id"], "cremated")
    assert record["cremation"]["institution_id"] == home["id"]
    assert abs(datetime.fromisoformat(record["cremation"]["started_at"]) - started) < timedelta(seconds=1)
    assert [(c["certificate_id"], c["number"], c["status"]) for c in record["certificates"]] == [
        (certificate["id"], certificate["number"], "issued")]
    assert (record["ashes_destination"], record["interments"]) == (None, [])
    assert "李师傅" not in response.text and case["deceased_name"] not in response.text
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.action, json.loads(entry.detail)["found"]) == ("op-1", "national.read_case", 1)

    unknown = httpx.get(f"{ministry_url}/api/v1/national/cases/beijing/{uuid.uuid4()}", headers=operator, timeout=10)
    assert_problem(unknown, 404, "case_id", "exists")
    ministry_session.rollback()
    assert json.loads(last_audit(ministry_session).detail)["found"] == 0  # a read that found nothing, audited too
