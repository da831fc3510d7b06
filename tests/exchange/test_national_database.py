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
from factories import case_payload, create_institution
from infra.ensure.keys import ensure_tenant_keys
from registry.exchange import service as exchange
from registry.exchange.models import Batch
from registry.national import projection
from registry.national.models import NationalCase, PersonMatch

CODES = {"beijing": "110000", "shandong": "370000", "yunnan": "530000"}
PERSON = "a" * 64
CHINA_TIME = ZoneInfo("Asia/Shanghai")


def _case(case_id: uuid.UUID, **changes) -> dict:
    """A case event's payload as a province's outbox holds it: the masked case and the person's blind index."""
    return {"id": str(case_id), "status": "declared", "institution_id": str(uuid.UUID(int=7)),
            "deceased_name": "张三", "sex": "1", "ethnicity": "01", "id_type": "resident_id",
            "id_number": "110105************", "birth_date": "1931-03-01", "household_region": "110105",
            "death_at": "2026-10-01T10:00:00+08:00", "death_place_type": "hospital", "death_manner": "normal",
            "cause_category": "disease", "death_certificate_no": "A-1", "informant": {}, "archive_ref": None,
            "archived_at": None, "created_at": "2026-10-01T12:00:00+08:00",
            "updated_at": "2026-10-01T12:00:00+08:00", "person_ref": PERSON, **changes}


def _batch(province: str, first: int, events: list[tuple[str, uuid.UUID, dict]]) -> Batch:
    return Batch.model_validate({
        "province": province, "province_code": CODES[province], "first_seq": first,
        "last_seq": first + len(events) - 1,
        "events": [{"seq": first + i, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{province}/{first + i}")),
                    "at": datetime(2026, 10, 2, tzinfo=UTC).isoformat(), "event_type": kind,
                    "aggregate_type": "case", "aggregate_id": str(case_id), "payload": payload}
                   for i, (kind, case_id, payload) in enumerate(events)]})


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
        ("case.registered", case, {"case_id": str(case), "to": "registered"})]), journal=journal)  # nothing to move yet
    assert _records(ministry_db) == []


@pytest.fixture
def province_keys(tmp_path: Path) -> Path:
    """beijing's keys with the provinces' shared person-matching key, as `fsp up` provisions them."""
    keys = tmp_path / "keys"
    ensure_tenant_keys(keys, fleet_keys=tmp_path / "fleet")
    return keys


def test_shipped_cases_reach_the_national_database_and_the_ministry_reads_them_audited(
        app, client, mint, make_shipper, ministry_url, ministry_session, ministry_settings):
    from registry.app import create_app

    admin = mint("provincial-admin")
    home = create_institution(client, admin)
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    death = datetime.now(UTC) - timedelta(days=3)
    payload = case_payload(home["id"], death_at=death.isoformat())
    created = client.post("/api/v1/cases", json=payload, headers=registrar).json()
    make_shipper(ministry_url).ship_pending()

    ministry_app = create_app(ministry_settings)  # its development issuer mints the operator's token
    try:
        operator = {"Authorization": "Bearer " + ministry_app.state.ctx.issuer.mint("op-1", ["ministry-operator"])}
    finally:
        ministry_app.state.ctx.engine.dispose()
    day = death.astimezone(CHINA_TIME).date().isoformat()
    found = httpx.get(f"{ministry_url}/api/v1/national/cases", headers=operator, timeout=10,
                      params={"province": "beijing", "died_from": day, "died_to": day}).json()
    assert found["count"] == 1
    (record,) = found["data"]
    assert record["case_id"] == created["id"]
    assert record["person_ref"] == app.state.ctx.person_ref("resident_id", payload["id_number"])
    assert payload["id_number"] not in json.dumps(found) and payload["deceased_name"] not in json.dumps(found)
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.action) == ("op-1", "national.search_cases")
    assert json.loads(entry.detail)["found"] == 1

    refused = httpx.get(f"{ministry_url}/api/v1/national/cases", headers=operator, params={"name": "x"}, timeout=10)
    assert_problem(refused, 422, "name", "extra_forbidden")
    registrar_at_ministry = {"Authorization": "Bearer " + ministry_app.state.ctx.issuer.mint("r", ["registrar"])}
    assert httpx.get(f"{ministry_url}/api/v1/national/cases", headers=registrar_at_ministry,
                     timeout=10).status_code == 403
    assert client.get("/api/v1/national/cases", headers=admin).status_code == 404  # provinces have no such API


