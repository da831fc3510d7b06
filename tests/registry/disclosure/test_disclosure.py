"""Institutions' public disclosures: anyone reads them, provincial admins replace them, audited and published."""
import json
import uuid

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, last_event, snapshot
from factories import create_institution
from registry.disclosure.models import InstitutionDisclosure

DISCLOSURE = {"opening_hours": "每日 8:00-17:00，节假日照常服务",
              "commitments": ["24小时接运遗体", "  明码标价，不强制消费  "],
              "supervising_authority": "北京市石景山区民政局", "complaint_phone": "010-68870000"}


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


@pytest.fixture
def institution(client, admin) -> dict:
    return create_institution(client, admin)


def test_admin_sets_the_disclosure_audited_and_published(client, session, admin, institution):
    path = f"/api/v1/institutions/{institution['id']}/disclosure"
    empty = client.get(path).json()

    saved = client.put(path, json=DISCLOSURE, headers=admin)
    read = client.get(path).json()

    assert empty["commitments"] == [] and empty["opening_hours"] is None
    assert saved.status_code == 200, saved.text
    assert read["commitments"] == ["24小时接运遗体", "明码标价，不强制消费"]
    assert read["supervising_authority"] == "北京市石景山区民政局" and read["complaint_phone"] == "010-68870000"
    entry = last_audit(session)
    assert (entry.actor, entry.action) == ("admin-1", "institution_disclosure.set")
    assert entry.object_id == institution["id"]
    assert json.loads(entry.detail)["fields"] == ["commitments", "complaint_phone", "opening_hours", "supervising_authority"]
    event = last_event(session)
    assert event.event_type == "institution_disclosure.published"
    assert json.loads(event.payload)["commitments"] == read["commitments"]


def test_replacing_names_only_the_changed_fields_and_clears_the_absent_ones(client, session, admin, institution):
    path = f"/api/v1/institutions/{institution['id']}/disclosure"
    client.put(path, json=DISCLOSURE, headers=admin)

    again = client.put(path, json={**DISCLOSURE, "opening_hours": None}, headers=admin)

    assert again.status_code == 200 and again.json()["opening_hours"] is None
    assert json.loads(last_audit(session).detail)["fields"] == ["opening_hours"]


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({**DISCLOSURE, "complaint_phone": "call us"}, "complaint_phone", "string_pattern_mismatch"),
    ({**DISCLOSURE, "commitments": ["x"] * 21}, "commitments", "too_long"),
    ({**DISCLOSURE, "commitments": ["承" * 201]}, "commitments.0", "string_too_long"),
    ({**DISCLOSURE, "supervising_authority": ""}, "supervising_authority", "string_too_short"),
])
def test_bad_disclosure_is_refused_and_nothing_written(client, session, admin, institution, body, field, rule):
    before = snapshot(session, InstitutionDisclosure)

    response = client.put(f"/api/v1/institutions/{institution['id']}/disclosure", json=body, headers=admin)

    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, InstitutionDisclosure)


def test_refusals_name_the_disclosure_fields_in_chinese(client, admin, institution):
    body = {**DISCLOSURE, "opening_hours": "时" * 201, "commitments": ["承" * 201], "complaint_phone": "call us"}
    response = client.put(f"/api/v1/institutions/{institution['id']}/disclosure", json=body,
                          headers={**admin, "Accept-Language": "zh-CN"})
    assert [problem["message"] for problem in response.json()["errors"]] == [
        "服务时间最多 200 个字符。", "服务承诺最多 200 个字符。", "监督投诉电话的格式不正确（应为数字，可含“+”和“-”，6 至 20 位）。"]


def test_only_provincial_admins_write_and_unknown_institutions_are_404(client, session, admin, mint, institution):
    path = f"/api/v1/institutions/{institution['id']}/disclosure"
    before = snapshot(session, InstitutionDisclosure)

    anonymous = client.put(path, json=DISCLOSURE)
    registrar = client.put(path, json=DISCLOSURE, headers=mint("registrar", institution_id=institution["id"]))
    unknown = client.put(f"/api/v1/institutions/{uuid.uuid4()}/disclosure", json=DISCLOSURE, headers=admin)

    assert anonymous.status_code == 401 and registrar.status_code == 403
    assert_problem(unknown, 404, "institution_id", "exists")
    assert client.get(f"/api/v1/institutions/{uuid.uuid4()}/disclosure").status_code == 404
    after = snapshot(session, InstitutionDisclosure)
    assert after[InstitutionDisclosure] == before[InstitutionDisclosure] == 0
