"""Masking must hide what it claims: nobody without personal-data:read can rebuild an ID number from what they
are shown, nor the ministry from what it receives, which matches people by a blind index instead."""
import json
import uuid
from datetime import date

import pytest
from fastapi import FastAPI
from sqlmodel import select
from stdnum.cn import ric

from factories import case_payload, create_institution, resident_id
from infra.ensure.keys import ensure_tenant_keys
from registry.config import Settings
from registry.outbox.models import OutboxEvent
from registry.security import crypto
from registry.security.keys import PERSON_MATCH_KEY, load_keys
from registry.security.masking import mask_id_number
from registry.security.permissions import ROLE_PERMISSIONS, Permission

# fewer candidates than this and a reader could try them one by one (at a counter, on the phone)
AT_LEAST = 100


def candidates(shown: dict) -> set[str]:
    """Every valid ID number consistent with what a reader sees of one case: the masked number's visible
    characters, the birth date, the sex (the sequence's parity) and the household region."""
    masked, birth, sex = shown["id_number"], date.fromisoformat(shown["birth_date"]), shown["sex"]
    region = masked[:6] if masked[:6].isdigit() else shown["household_region"]
    found = set()
    for seq in range(1000):
        if sex in ("1", "2") and seq % 2 != (1 if sex == "1" else 0):
            continue
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if all(m in ("*", c) for m, c in zip(masked, number, strict=True)):
            found.add(number)
    return found


def test_the_old_mask_gave_the_number_away():
    """What this file guards against: region + last 4 + the birth date shown beside it is the whole number."""
    number = resident_id(birth=date(1941, 3, 9), seq=371)
    old = {"id_number": number[:6] + "********" + number[-4:], "birth_date": "1941-03-09", "sex": "1",
           "household_region": number[:6]}
    assert candidates(old) == {number}
    assert len(candidates({**old, "id_number": mask_id_number(number)})) >= AT_LEAST


@pytest.fixture
def declared(client, mint):
    institution = create_institution(client, mint("provincial-admin"))
    registrar = mint("registrar", institution_id=uuid.UUID(institution["id"]))
    payload = case_payload(institution["id"], sex="1")
    response = client.post("/api/v1/cases", json=payload, headers=registrar)
    assert response.status_code == 201, response.text
    return payload, response.json(), registrar


READERS = sorted(role.value for role, granted in ROLE_PERMISSIONS.items()
                 if Permission.cases_read in granted and Permission.personal_data_read not in granted)


@pytest.mark.parametrize("role", READERS)
def test_no_reader_without_personal_data_read_can_rebuild_the_number(client, mint, declared, role):
    payload, created, registrar = declared
    number = payload["id_number"]
    headers = registrar if role == "registrar" else mint(role)
    shown = [created, client.get(f"/api/v1/cases/{created['id']}", headers=headers).json(),
             *client.get("/api/v1/cases", headers=headers).json()["data"]]
    for case in shown:
        assert number not in json.dumps(case)
        assert len(candidates(case)) >= AT_LEAST, case["id_number"]


def test_outbox_events_carry_no_rebuildable_number(client, mint, declared):
    payload, created, _ = declared
    events = client.get("/api/v1/outbox", headers=mint("system-admin")).json()["data"]
    (event,) = [e for e in events if e["event_type"] == "case.declared"]
    assert payload["id_number"] not in json.dumps(event)
    assert len(candidates(event["payload"])) >= AT_LEAST


def test_person_ref_matches_one_person_across_provinces_and_the_ministry_has_no_key(tmp_path):
    fleet = tmp_path / "fleet"
    for tenant in ("beijing", "shandong"):
        ensure_tenant_keys(tmp_path / tenant, fleet_keys=fleet)
    ensure_tenant_keys(tmp_path / "ministry")
    beijing, shandong = load_keys(tmp_path / "beijing"), load_keys(tmp_path / "shandong")
    assert beijing.person_match_key == shandong.person_match_key is not None
    assert beijing.index_key != shandong.index_key  # the provinces' own lookups stay apart
    assert load_keys(tmp_path / "ministry").person_match_key is None
    assert (tmp_path / "beijing" / PERSON_MATCH_KEY).stat().st_mode & 0o077 == 0


def test_declared_events_carry_the_persons_cross_province_blind_index(database_url, tmp_path):
    from fastapi.testclient import TestClient

    from registry.app import create_app

    keys = tmp_path / "keys"
    ensure_tenant_keys(keys, fleet_keys=tmp_path / "fleet")
    app: FastAPI = create_app(Settings(tenant_code="370000", tenant_slug="shandong", database_url=database_url,
                                       keys_dir=keys, environment="development"))
    try:
        issuer = app.state.ctx.issuer
        with TestClient(app) as client:
            admin = {"Authorization": "Bearer " + issuer.mint("admin", ["provincial-admin"])}
            institution = create_institution(client, admin, region_code="370102")
            registrar = {"Authorization": "Bearer " + issuer.mint(
                "reg", ["registrar"], institution_id=uuid.UUID(institution["id"]))}
            birth = date(1931, 3, 1)
            number = resident_id(region="370102", birth=birth, seq=5)
            response = client.post("/api/v1/cases", headers=registrar, json=case_payload(
                institution["id"], id_number=number, birth_date=birth.isoformat(), household_region="370102"))
            assert response.status_code == 201, response.text
        from sqlmodel import Session
        with Session(app.state.ctx.engine) as session:
            event = session.exec(select(OutboxEvent).where(OutboxEvent.event_type == "case.declared")).one()
        sent = json.loads(event.payload)
        match_key = (keys / PERSON_MATCH_KEY).read_bytes()
        assert sent["person_ref"] == crypto.hmac_sm3(match_key, f"resident_id:{number}")
        assert sent["person_ref"] != app.state.ctx.blind_index(number)
        assert number not in event.payload
    finally:
        app.state.ctx.engine.dispose()


def test_the_migration_remasks_stored_cases_and_queued_events(client, mint, declared, database_url, run_alembic):
    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    payload, created, _ = declared
    number = payload["id_number"]
    old = number[:6] + "********" + number[-4:]
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:  # as a registry before this revision left them
            connection.execute(text("UPDATE cases SET id_number_masked = :old"), {"old": old})
            connection.execute(text("UPDATE outbox_events SET payload = :p WHERE event_type = 'case.declared'"),
                               {"p": json.dumps({**created, "id_number": old})})
        run_alembic(database_url, command.downgrade, "0009-1")  # to before the re-masking revision
        run_alembic(database_url, command.upgrade, "head")
        with engine.connect() as connection:
            masks = connection.execute(text("SELECT id_number_masked FROM cases")).scalars().all()
            queued = connection.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'case.declared'"))
            assert masks == [number[:6] + "*" * 12]
            assert json.loads(queued.scalar_one())["id_number"] == number[:6] + "*" * 12
    finally:
        engine.dispose()
