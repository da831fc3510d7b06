"""The national directory at the ministry: every province's institutions, fees and disclosures from their batches
(replays and older events change nothing, an ended fee keeps its end), the ministry's audited search, and the
national figures (counts per province)."""
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from assertions import assert_problem, last_audit
from factories import institution_payload
from national_events import disclosure_event, fee_event, institution_event
from national_events import payload_batch as batch
from registry.exchange import service as exchange
from registry.exchange.models import Batch
from registry.national import directory, figures, projection
from registry.national.models import NationalInstitution, NationalInstitutionFilters, NationalServiceItem

HOME, CEMETERY = uuid.UUID(int=1), uuid.UUID(int=2)


def _institution(institution_id: uuid.UUID, **changes) -> dict:
    return institution_event(institution_id, **changes)


def _fee(item_id: uuid.UUID, institution_id: uuid.UUID = HOME, **changes) -> dict:
    return fee_event(item_id, institution_id, **changes)


def _disclosure(institution_id: uuid.UUID = HOME, **changes) -> dict:
    return disclosure_event(institution_id, **changes)


def _batch(province: str, first: int, events: list[tuple[str, dict]]) -> Batch:
    return Batch.model_validate(batch(province, first, events))


@pytest.fixture
def ministry_db(app):
    """A session on a migrated database standing for the ministry's."""
    with Session(app.state.ctx.engine) as session:
        yield session


@pytest.fixture
def receive(app, ministry_db):
    return lambda batch: exchange.receive_batch(ministry_db, batch, journal=app.state.ctx.journal)


def _rows(session: Session, model) -> list[dict]:
    session.rollback()
    return [row.model_dump(exclude={"updated_at"}) for row in session.exec(select(model))]


def test_an_institution_is_one_entry_at_its_latest_update_with_its_disclosure(ministry_db, receive):
    receive(_batch("beijing", 1, [("institution.created", _institution(HOME)),
                                  ("institution_disclosure.published", _disclosure()),
                                  ("institution.updated", _institution(HOME, contact_phone="010-68800002",
                                                                       status="suspended"))]))
    (entry,) = _rows(ministry_db, NationalInstitution)
    assert (entry["province_slug"], entry["province_code"], entry["institution_id"]) == ("beijing", "110000", HOME)
    assert (entry["name"], entry["contact_phone"], entry["status"], entry["last_seq"]) == (
        "八宝山殡仪馆", "010-68800002", "suspended", 3)
    # an update of the entry leaves what the institution disclosed
    assert (entry["opening_hours"], entry["commitments"], entry["complaint_phone"]) == (
        "每日 8:00-17:00", "24小时接运遗体\n明码标价", "010-68870000")


def test_replays_and_older_events_change_no_entry_and_no_fee(ministry_db, receive):
    item = uuid.uuid4()
    events = [("institution.created", _institution(HOME)), ("service_item.published", _fee(item)),
              ("institution_disclosure.published", _disclosure()),
              ("institution.updated", _institution(HOME, name="八宝山殡仪馆（新址）"))]
    receive(_batch("beijing", 1, events))
    before = (_rows(ministry_db, NationalInstitution), _rows(ministry_db, NationalServiceItem))

    receive(_batch("beijing", 1, events))  # resent as it was
    projection.apply_events(ministry_db, province="beijing", province_code="110000", now=datetime.now(UTC),
                            events=_batch("beijing", 1, [  # the same seqs again, whatever they say
                                ("institution.created", _institution(HOME, name="旧名")),
                                ("service_item.published", _fee(item, price_fen=1)),
                                ("institution_disclosure.published", _disclosure(opening_hours="旧")),
                                ("institution.updated", _institution(HOME, name="旧名"))]).events)
    ministry_db.commit()
    assert (_rows(ministry_db, NationalInstitution), _rows(ministry_db, NationalServiceItem)) == before
    assert before[0][0]["name"] == "八宝山殡仪馆（新址）" and before[1][0]["price_fen"] == 48000


def test_an_ended_fee_is_kept_with_its_end_beside_the_price_that_follows(ministry_db, receive):
    old, new = uuid.uuid4(), uuid.uuid4()
    receive(_batch("beijing", 1, [("institution.created", _institution(HOME)),
                                  ("service_item.published", _fee(old))]))
    receive(_batch("beijing", 3, [("service_item.ended", _fee(old, effective_to="2026-06-30")),
                                  ("service_item.published", _fee(new, price_fen=50000,
                                                                  effective_from="2026-07-01"))]))
    periods = {row["item_id"]: (row["price_fen"], row["effective_from"], row["effective_to"])
               for row in _rows(ministry_db, NationalServiceItem)}
    assert periods == {old: (48000, date(2024, 1, 1), date(2026, 6, 30)), new: (50000, date(2026, 7, 1), None)}
    in_force = directory.fees_on(ministry_db, province="beijing", institution_id=HOME, day=date(2026, 6, 30))
    assert [item.item_id for item in in_force] == [old]
    assert [item.item_id for item in directory.fees_on(ministry_db, province="beijing", institution_id=HOME,
                                                       day=date(2026, 7, 1))] == [new]


def test_a_disclosure_of_an_institution_never_received_or_of_another_shape_is_not_projected(ministry_db, receive):
    receive(_batch("beijing", 1, [("institution_disclosure.published", _disclosure(CEMETERY)),
                                  ("institution.created", {"id": str(HOME), "unexpected": True}),
                                  ("service_item.published", _fee(uuid.uuid4(), category="luxury"))]))
    assert _rows(ministry_db, NationalInstitution) == [] and _rows(ministry_db, NationalServiceItem) == []


def test_the_directory_searches_across_provinces_by_name_province_type_and_region(ministry_db, receive):
    receive(_batch("beijing", 1, [("institution.created", _institution(HOME)),
                                  ("institution.created", _institution(CEMETERY, name="西山公益性公墓",
                                                                       type="public_cemetery", region_code="110108",
                                                                       address="海淀区香山路2号"))]))
    jinan = uuid.UUID(int=3)
    receive(_batch("shandong", 1, [("institution.created", _institution(jinan, name="济南市殡仪馆",
                                                                        region_code="370102", address="历下区"))]))

    def names(**filters) -> tuple[list[str], int]:
        rows, total = directory.find_institutions(ministry_db, NationalInstitutionFilters(**filters))
        return [row.name for row in rows], total

    assert names() == (["八宝山殡仪馆", "西山公益性公墓", "济南市殡仪馆"], 3)
    assert names(q="殡仪馆") == (["八宝山殡仪馆", "济南市殡仪馆"], 2)
    assert names(province="shandong") == (["济南市殡仪馆"], 1)
    assert names(type="public_cemetery") == (["西山公益性公墓"], 1)
    assert names(region="370100") == (["济南市殡仪馆"], 1)  # a prefecture takes in its districts
    assert names(q="香山路") == (["西山公益性公墓"], 1)  # the address too
    rows, total = directory.find_institutions(ministry_db, NationalInstitutionFilters(page=2), page_size=2)
    assert ([row.name for row in rows], total) == (["济南市殡仪馆"], 3)


def _case(case_id: uuid.UUID, death_at: datetime) -> dict:
    return {"id": str(case_id), "status": "declared", "institution_id": str(HOME), "sex": "1", "ethnicity": "01",
            "id_type": "resident_id", "birth_date": "1931-03-01", "household_region": "110105",
            "death_at": death_at.isoformat(), "death_place_type": "hospital", "death_manner": "normal",
            "cause_category": "disease"}


def _cremated(case_id: uuid.UUID, at: datetime) -> list[tuple[str, dict]]:
    certificate = {"id": str(uuid.uuid5(case_id, "C-1")), "case_id": str(case_id), "number": f"C-{case_id.hex[:8]}",
                   "issued_at": at.isoformat()}
    return [("cremation.recorded", {"id": str(uuid.uuid4()), "case_id": str(case_id), "institution_id": str(HOME),
                                    "started_at": at.isoformat(), "ended_at": (at + timedelta(hours=1)).isoformat()}),
            ("certificate.issued", certificate)]


def test_figures_count_each_provinces_deaths_cremations_and_first_certificates_by_the_year_in_china(
        ministry_db, receive):
    # 2026-01-01 00:30 in Beijing is still 2025 in UTC: it counts for 2026
    new_year = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
    this_year, last_year = [uuid.uuid4() for _ in range(3)], uuid.uuid4()
    events = [("case.declared", _case(case, new_year)) for case in this_year]
    events += [("case.declared", _case(last_year, datetime(2025, 6, 1, tzinfo=UTC)))]
    events += _cremated(this_year[0], new_year) + _cremated(last_year, datetime(2025, 6, 2, tzinfo=UTC))
    reissue = {"id": str(uuid.uuid4()), "case_id": str(this_year[0]), "number": "C-R", "issued_at": new_year.isoformat(),
               "replaces_id": events[-3][1]["id"], "replaced": {**events[-3][1], "cancelled_at": new_year.isoformat()}}
    receive(_batch("beijing", 1, [*events, ("certificate.reissued", reissue)]))
    receive(_batch("shandong", 1, [("institution.created", _institution(uuid.UUID(int=3), region_code="370102"))]))

    found = figures.national_figures(ministry_db, today=date(2026, 11, 30))
    assert found.year == 2026
    rows = {p.province_slug: (p.deaths_this_year, p.deaths_last_year, p.cremations_this_year,
                              p.certificates_this_year) for p in found.provinces}
    assert rows == {"beijing": (3, 1, 1, 1), "shandong": (0, 0, 0, 0)}
    total = found.total
    assert (total.deaths_this_year, total.deaths_last_year, total.cremations_this_year,
            total.certificates_this_year) == (3, 1, 1, 1)


def _ministry_token(ministry_settings, subject: str, role: str) -> dict:
    from registry.app import create_app

    ministry_app = create_app(ministry_settings)
    try:
        return {"Authorization": "Bearer " + ministry_app.state.ctx.issuer.mint(subject, [role])}
    finally:
        ministry_app.state.ctx.engine.dispose()


def test_shipped_institutions_are_searched_by_ministry_operators_audited(
        client, mint, make_shipper, ministry_url, ministry_session, ministry_settings):
    admin = mint("provincial-admin")
    home = client.post("/api/v1/institutions", headers=admin, json=institution_payload(name="八宝山殡仪馆")).json()
    fee = {"name": "遗体火化", "category": "basic", "unit": "具", "price_fen": 48000, "pricing_basis": "government_set",
           "effective_from": "2024-01-01"}
    assert client.post(f"/api/v1/institutions/{home['id']}/service-items", headers=admin, json=fee).status_code == 201
    assert client.put(f"/api/v1/institutions/{home['id']}/disclosure", headers=admin,
                      json={"commitments": ["24小时接运遗体"], "complaint_phone": "010-68870000"}).status_code == 200
    make_shipper(ministry_url).ship_pending()

    operator = _ministry_token(ministry_settings, "op-1", "ministry-operator")
    url = f"{ministry_url}/api/v1/national/institutions"
    found = httpx.get(url, headers=operator, params={"q": "八宝山", "province": "beijing", "type": "funeral_home",
                                                     "region": "110000"}, timeout=10)
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["count"], body["page"], body["page_size"]) == (1, 1, 20)
    (entry,) = body["data"]
    assert (entry["institution_id"], entry["province_slug"], entry["name"]) == (home["id"], "beijing", "八宝山殡仪馆")
    assert (entry["commitments"], entry["complaint_phone"]) == (["24小时接运遗体"], "010-68870000")
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.action) == ("op-1", "national.search_institutions")
    assert json.loads(entry.detail) == {"asked": {"q": "八宝山", "province": "beijing", "type": "funeral_home",
                                                  "region": "110000", "page": 1}, "found": 1}
    assert httpx.get(url, headers=operator, params={"province": "shandong"}, timeout=10).json()["count"] == 0

    assert_problem(httpx.get(url, headers=operator, params={"type": "hospital"}, timeout=10), 422, "type", "enum")
    assert_problem(httpx.get(url, headers=operator, params={"page": "0"}, timeout=10), 422, "page", "greater_than_equal")
    registrar = _ministry_token(ministry_settings, "r", "registrar")
    assert httpx.get(url, headers=registrar, timeout=10).status_code == 403
    assert client.get("/api/v1/national/institutions", headers=admin).status_code == 404  # provinces have no such API
