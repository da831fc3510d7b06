"""Institution directory and fee schedule: public reads, audited admin writes, rules on codes and prices."""
import uuid

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import create_institution, institution_payload
from registry.institutions.models import Institution, ServiceItem


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


def test_directory_is_public_and_writes_are_audited(client, session, admin):
    created = create_institution(client, admin, type="crematorium")
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id) == ("admin-1", "institution.create", created["id"])
    listing = client.get("/api/v1/institutions", params={"type": "crematorium"})
    assert listing.status_code == 200 and [i["id"] for i in listing.json()["data"]] == [created["id"]]
    assert client.get(f"/api/v1/institutions/{created['id']}").json()["name"] == created["name"]


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"credit_code": "91110000600037341A"}, "credit_code", "credit_code"),
    ({"region_code": "120101"}, "region_code", "region_in_province"),
    ({"region_code": "110199"}, "region_code", "region_code_known"),
    ({"type": "hospital"}, "type", "enum"),
    ({"name": "x" * 101}, "name", "string_too_long"),
])
def test_bad_institution_is_refused(client, session, admin, override, field, rule):
    before = snapshot(session, Institution)
    response = client.post("/api/v1/institutions", json=institution_payload(**override), headers=admin)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Institution)


def test_duplicate_credit_code_is_409(client, session, admin):
    first = create_institution(client, admin)
    before = snapshot(session, Institution)
    response = client.post("/api/v1/institutions", json=institution_payload(credit_code=first["credit_code"]),
                           headers=admin)
    body = assert_problem(response, 409, "credit_code", "unique")
    assert body["errors"][0]["existing_id"] == first["id"]
    assert_refused_and_nothing_written(session, before, Institution)


def test_only_provincial_admin_writes(client, session, mint):
    before = snapshot(session, Institution)
    response = client.post("/api/v1/institutions", json=institution_payload(), headers=mint("registrar"))
    assert_problem(response, 403, "authorization", "permission")
    assert_refused_and_nothing_written(session, before, Institution)


def test_update_records_changed_fields(client, session, admin):
    created = create_institution(client, admin)
    response = client.patch(f"/api/v1/institutions/{created['id']}", json={"status": "suspended"}, headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert '"fields": ["status"]' in last_audit(session).detail


@pytest.mark.parametrize("field", ["name", "address", "status"])
def test_a_field_every_institution_has_cannot_be_cleared(client, session, admin, field):
    created = create_institution(client, admin)
    before = snapshot(session, Institution)
    response = client.patch(f"/api/v1/institutions/{created['id']}", json={field: None}, headers=admin)
    assert_problem(response, 422, field, "missing")
    assert_refused_and_nothing_written(session, before, Institution)


def test_the_directory_is_filtered_by_status(client, admin):
    open_one, suspended = create_institution(client, admin), create_institution(client, admin)
    client.patch(f"/api/v1/institutions/{suspended['id']}", json={"status": "suspended"}, headers=admin)
    listed = client.get("/api/v1/institutions", params={"status": "suspended"}).json()["data"]
    assert [i["id"] for i in listed] == [suspended["id"]]
    assert [i["id"] for i in client.get("/api/v1/institutions", params={"status": "active"}).json()["data"]] == [
        open_one["id"]]
    assert_problem(client.get("/api/v1/institutions", params={"status": "gone"}), 422, "status", "enum")


def test_the_directory_counts_its_matches_over_all_pages(client, admin):
    for _ in range(3):
        create_institution(client, admin, type="columbarium")
    page = client.get("/api/v1/institutions", params={"type": "columbarium", "limit": 2, "offset": 2}).json()
    assert len(page["data"]) == 1 and page["count"] == 3


def test_fee_schedule_by_date(client, admin):
    inst = create_institution(client, admin)
    path = f"/api/v1/institutions/{inst['id']}/service-items"
    basic = {"name": "遗体火化", "category": "basic", "unit": "具", "price_fen": 40000,
             "pricing_basis": "government_set", "effective_from": "2025-01-01", "effective_to": "2025-12-31"}
    optional = {"name": "告别厅租用", "category": "optional", "unit": "场", "price_fen": 120000,
                "pricing_basis": "market", "effective_from": "2026-01-01"}
    assert client.post(path, json=basic, headers=admin).status_code == 201
    assert client.post(path, json=optional, headers=admin).status_code == 201
    in_2025 = client.get(path, params={"on": "2025-06-01"}).json()
    assert [i["name"] for i in in_2025["data"]] == ["遗体火化"]
    # the schedule shows the prices in force now and later; the history keeps the ended one
    assert [i["name"] for i in client.get(path).json()["data"]] == ["告别厅租用"]
    assert client.get(path, params={"history": "true"}).json()["count"] == 2


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"pricing_basis": "market"}, "pricing_basis", "basic_service_pricing"),
    ({"effective_to": "2024-01-01"}, "effective_to", "date_order"),
    ({"price_fen": -1}, "price_fen", "greater_than_equal"),
])
def test_bad_fee_is_refused(client, session, admin, override, field, rule):
    inst = create_institution(client, admin)
    item = {"name": "遗体接运", "category": "basic", "unit": "次", "price_fen": 20000,
            "pricing_basis": "government_guided", "effective_from": "2025-01-01", **override}
    before = snapshot(session, ServiceItem)
    response = client.post(f"/api/v1/institutions/{inst['id']}/service-items", json=item, headers=admin)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, ServiceItem)


def test_fees_of_unknown_institution_is_404(client):
    assert_problem(client.get(f"/api/v1/institutions/{uuid.uuid4()}/service-items"), 404, "institution_id", "exists")
