"""Probes, metrics, error shape of the framework's own errors, and many apps in one process."""
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from assertions import assert_problem
from factories import create_institution, institution_payload
from registry.app import create_app
from registry.config import Settings


def samples(client) -> dict:
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_not_ready_when_schema_is_behind(client, session):
    session.exec(text("UPDATE alembic_version SET version_num = 'behind'"))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and "migration head" in response.json()["reason"]


def test_metrics_use_route_templates_and_count_business(client, mint):
    admin = mint("provincial-admin")
    institution = create_institution(client, admin)
    client.get(f"/api/v1/institutions/{institution['id']}")
    found = samples(client)
    key = ("fsp_http_requests_total", (("method", "GET"), ("route", "/api/v1/institutions/{institution_id}"),
                                       ("status", "200")))
    assert found[key] == 1
    assert not any(institution["id"] in str(labels) for _, labels in found)
    assert found[("fsp_outbox_pending_events", ())] == 1
    build = [dict(labels) for name, labels in found if name == "fsp_build_info"]
    assert [b["tenant"] for b in build] == ["beijing"]


def test_framework_errors_use_the_one_shape(client, mint):
    assert_problem(client.get("/api/v1/nowhere"), 404, "path", "route")
    assert_problem(client.delete("/api/v1/institutions"), 405, "path", "method")
    broken = client.post("/api/v1/institutions", content=b"{not json", headers={
        **mint("provincial-admin"), "content-type": "application/json"})
    assert_problem(broken, 422, "body", "json_invalid")


def test_oversized_body_is_413_and_audited_with_who_sent_it(client, mint):
    oversized = b"[" + b"1," * 40000 + b"1]"
    response = client.post("/api/v1/institutions", content=oversized,
                           headers={**mint("provincial-admin", subject="clerk-7"), "content-type": "application/json"})
    assert_problem(response, 413, "body", "max_size")
    forged = client.post("/api/v1/institutions", content=oversized,
                         headers={"Authorization": "Bearer not.a.token", "content-type": "application/json"})
    assert_problem(forged, 413, "body", "max_size")

    refused = client.get("/api/v1/audit", params={"result": "refused"}, headers=mint("auditor")).json()["data"]
    assert [(entry["actor"], entry["detail"].count("max_size")) for entry in refused[-2:]] == [
        ("clerk-7", 1), ("anonymous", 1)]


def test_two_tenants_in_one_process_are_isolated(settings, app, client, tmp_path: Path):
    other_settings = Settings(tenant_code="120000", tenant_slug="tianjin", database_url=f"sqlite:///{tmp_path}/tj.db",
                              keys_dir=tmp_path / "tj-keys")
    other = create_app(other_settings)
    try:
        assert other.state.ctx.metrics.registry is not app.state.ctx.metrics.registry
        assert other.state.ctx.keys.field_key != app.state.ctx.keys.field_key
        tianjin_token = other.state.ctx.issuer.mint("x", ["registrar"])
        assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tianjin_token}"}).status_code == 401
    finally:
        other.state.ctx.engine.dispose()


def test_nul_characters_are_never_a_server_error(client, mint, settings):
    admin = mint("provincial-admin")
    response = client.post("/api/v1/institutions", json=institution_payload(address="石景山路\u00009号"), headers=admin)
    assert_problem(response, 422, "address", "plain_text")  # refused by the model, whatever the database stores
    if settings.is_sqlite:
        assert client.get("/api/v1/institutions", params={"q": "a\u0000b"}).status_code == 200
    else:
        assert_problem(client.get("/api/v1/institutions", params={"q": "a\u0000b"}), 422, "body", "storable")
