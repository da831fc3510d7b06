"""The API's contract: never a 500, always the one error shape, every status documented, docs served offline."""
import json
from datetime import UTC, datetime, timedelta

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import case_payload, declare_case, institution_payload
from registry.cases.models import Case
from registry.institutions.models import Institution, ServiceItem
from registry.remains.models import Transport

HUGE = str(2 ** 63)


@pytest.mark.parametrize(("path", "param", "role"), [
    ("/api/v1/institutions", "offset", None),
    ("/api/v1/cases", "offset", "reviewer"),
    ("/api/v1/audit", "after", "auditor"),
    ("/api/v1/outbox", "after", "system-admin"),
])
def test_a_huge_cursor_is_422_not_500(client, mint, path, param, role):
    headers = mint(role) if role else {}
    assert_problem(client.get(path, params={param: HUGE}, headers=headers), 422, param, "less_than_equal")


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"birth_date": "0001-01-01", "id_type": "none", "id_number": None}, "birth_date", "too_early"),
    ({"death_at": "0001-01-01T00:00:00+08:00"}, "death_at", "too_early"),
    ({"death_at": "9999-12-31T23:00:00-05:00"}, "death_at", "not_future"),
    ({"death_at": -1}, "death_at", "datetime_type"),
    ({"death_at": 1700000000}, "death_at", "datetime_type"),
    ({"deceased_name": "张\u202e三"}, "deceased_name", "plain_text"),
    ({"deceased_name": "张\x07三"}, "deceased_name", "plain_text"),
    ({"deceased_name": "张\x85三"}, "deceased_name", "plain_text"),
    ({"informant": {"name": "张家属", "relation": "子\u2066女", "phone": "13812345678"}}, "informant.relation",
     "plain_text"),
])
def test_implausible_declarations_are_refused(client, session, registrar, funeral_home, override, field, rule):
    before = snapshot(session, Case)
    response = client.post("/api/v1/cases", json=case_payload(funeral_home["id"], **override), headers=registrar)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Case)


def test_a_year_one_record_is_refused_alone_in_an_import(client, admin, funeral_home):
    good = case_payload(funeral_home["id"], archive_ref="BJ-2012/000001", death_at="2012-05-06T10:00:00+08:00")
    bad = case_payload(funeral_home["id"], archive_ref="BJ-2012/000002", id_type="none", id_number=None,
                       birth_date="0001-01-01", death_at="0001-01-02T00:00:00+08:00")
    response = client.post("/api/v1/cases/imports", json={"records": [good, bad]}, headers=admin)
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "refused"]


def test_a_correction_naming_a_lone_surrogate_is_refused_and_audited(client, session, registrar, funeral_home):
    case = declare_case(client, registrar, funeral_home["id"])
    body = '{"changes": {"\\ud800": 1}, "reason": "typo"}'
    response = client.post(f"/api/v1/cases/{case['id']}/corrections", content=body,
                           headers={**registrar, "content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["rule"] == "correctable_field"
    entry = last_audit(session)
    assert (entry.result, entry.action) == ("refused", "POST /api/v1/cases/{case_id}/corrections")
    assert "\\\\ud800" in entry.detail  # the field name is written escaped, never as an unencodable character


def _transport(institution, **overrides) -> dict:
    departed = datetime.now(UTC) - timedelta(hours=6)
    payload = {"institution_id": institution["id"], "from_address": "海淀区某医院太平间", "to_address": "本馆冷藏间",
               "vehicle_plate": "京A12345", "departed_at": departed.isoformat(),
               "arrived_at": (departed + timedelta(minutes=40)).isoformat()}
    return payload | overrides


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"arrived_at": "9999-12-31T23:59:59-05:00"}, "arrived_at", "not_future"),
    ({"arrived_at": "2090-01-01T00:00:00+08:00"}, "arrived_at", "not_future"),
    ({"to_address": "本馆\u0000冷藏间"}, "to_address", "plain_text"),
    ({"from_address": "医院\u202d太平间"}, "from_address", "plain_text"),
])
def test_impossible_transports_are_refused(client, session, registrar, funeral_home, override, field, rule):
    case = declare_case(client, registrar, funeral_home["id"])
    before = snapshot(session, Transport)
    response = client.post(f"/api/v1/cases/{case['id']}/transports", json=_transport(funeral_home, **override),
                           headers=registrar)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Transport)


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"address": "石景山路\u20689号"}, "address", "plain_text"),
    ({"name": "北京\u009b殡仪馆"}, "name", "plain_text"),
])
def test_institution_text_refuses_control_and_bidi_characters(client, session, admin, override, field, rule):
    before = snapshot(session, Institution)
    response = client.post("/api/v1/institutions", json=institution_payload(**override), headers=admin)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Institution)


def test_a_price_is_a_number_not_a_boolean(client, session, admin, funeral_home):
    item = {"name": "遗体接运", "category": "basic", "unit": "次", "price_fen": True,
            "pricing_basis": "government_set", "effective_from": "2024-01-01"}
    before = snapshot(session, ServiceItem)
    response = client.post(f"/api/v1/institutions/{funeral_home['id']}/service-items", json=item, headers=admin)
    assert_problem(response, 422, "price_fen", "int_type")
    assert_refused_and_nothing_written(session, before, ServiceItem)


def test_patch_with_an_unknown_field_is_422(client, session, admin, funeral_home):
    response = client.patch(f"/api/v1/institutions/{funeral_home['id']}", json={"nmae": "新名"}, headers=admin)
    assert_problem(response, 422, "nmae", "extra_forbidden")
    assert last_audit(session).result == "refused"


def _chunked(size: int):
    chunk = b"x" * 1024
    for _ in range(size // len(chunk)):
        yield chunk


def test_a_chunked_body_over_the_limit_is_413_and_audited(client, session, admin, settings):
    response = client.post("/api/v1/institutions", content=_chunked(settings.max_body_bytes + 4096),
                           headers={**admin, "content-type": "application/json"})
    assert_problem(response, 413, "body", "max_size")
    entry = last_audit(session)
    assert (entry.result, entry.action) == ("refused", "POST /api/v1/institutions")


def test_the_audited_path_of_an_oversized_request_is_truncated(client, session, admin, settings):
    path = "/api/v1/" + "a" * 60_000  # as long as the test client sends
    response = client.post(path, content=b"x" * (settings.max_body_bytes + 1),
                           headers={**admin, "content-type": "application/json"})
    assert response.status_code == 413
    entry = last_audit(session)
    assert entry.result == "refused" and entry.action.startswith("POST /api/v1/aaa") and len(entry.action) <= 200


def test_405_names_the_allowed_methods(client):
    response = client.delete("/api/v1/institutions")
    assert_problem(response, 405, "path", "method")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_every_operation_documents_its_errors_with_the_error_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "ErrorBody" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401", "403"} if operation.get("security") else set()
            if "{" in path:
                expected.add("404")
            if operation.get("parameters") or "requestBody" in operation:
                expected.add("422")
            if method in ("post", "patch"):
                expected |= {"409", "413", "422"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, response in responses.items():
                if status.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorBody", (method, path, status)


def test_metrics_are_documented_and_served_as_text(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_the_api_docs_load_nothing_from_other_hosts(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f'"/api/v1/docs/static/{asset}"' in page.text or f"'/api/v1/docs/static/{asset}'" in page.text
        served = client.get(f"/api/v1/docs/static/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000
    assert json.loads(client.get("/api/v1/openapi.json").text)["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/v1/cases?died_to=0", "/api/v1/cases?died_from=20260101",
                                  "/api/v1/audit?at_from=-1"])
def test_a_day_that_is_not_written_as_a_date_is_refused_not_read_as_1970(client, mint, path):
    """`0` or `20260101` would otherwise be read as Unix timestamps: a list since 1970 instead of a refusal."""
    answer = client.get(path, headers={**mint("reviewer", "auditor"), "Accept-Language": "en"})
    field = path.split("?")[1].split("=")[0]
    assert_problem(answer, 422, field, "date_type")
    assert "日期" in client.get(path, headers={**mint("reviewer", "auditor"), "Accept-Language": "zh-CN"}).text


def test_a_publication_dated_by_a_number_is_refused_and_nothing_written(client, session, mint):
    from registry.publications.models import Publication

    admin = mint("provincial-admin")
    body = {"category": "guide", "title": "指南", "issuing_authority": "北京市民政局", "content": "正文",
            "effective_date": 0}
    before = snapshot(session, Publication)
    assert_problem(client.post("/api/v1/publications", json=body, headers=admin), 422, "effective_date", "date_type")
    assert_refused_and_nothing_written(session, before, Publication)
