"""Anyone can send requests without a token: their 401s are audited by count, never one row each, and none is lost."""
import json

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from registry.audit.models import AuditEntry

PATH = "/api/v1/audit"


def refusals(engine, status: int) -> list[dict]:
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.result == "refused")
                               .order_by(col(AuditEntry.seq))).all()
    return [json.loads(entry.detail) for entry in entries if json.loads(entry.detail)["status"] == status]


def test_500_anonymous_requests_write_a_bounded_number_of_entries_that_count_them_all(client, app, mint):
    for _ in range(500):
        assert client.get(PATH).status_code == 401

    assert client.get("/api/v1/audit/verify", headers=mint("auditor")).json()["ok"] is True  # counts flushed first

    counted = refusals(app.state.ctx.engine, 401)
    assert len(counted) <= 2 and sum(detail["count"] for detail in counted) == 500
    assert counted[0]["client"] == "testclient" and counted[0]["errors"][0]["rule"] == "bearer_token"
    metrics = client.get("/metrics").text
    assert 'fsp_unauthenticated_refusals_total{action="GET /api/v1/audit"} 500.0' in metrics


def test_counts_not_yet_audited_are_written_at_shutdown(app):
    with TestClient(app) as client:
        for _ in range(50):
            client.post("/api/v1/institutions", json={})

    assert sum(detail["count"] for detail in refusals(app.state.ctx.engine, 401)) == 50


def test_a_refusal_after_the_window_audits_the_window_that_ended(client, app, monkeypatch):
    for _ in range(10):
        client.get(PATH)
    assert [detail["count"] for detail in refusals(app.state.ctx.engine, 401)] == [1]  # the first, at once

    monkeypatch.setattr("registry.audit.refusals.WINDOW_SECONDS", 0.0)  # the window has ended
    client.get(PATH)

    assert [detail["count"] for detail in refusals(app.state.ctx.engine, 401)] == [1, 9, 1]


def test_403s_of_genuine_tokens_are_still_audited_one_by_one(client, app, mint):
    roleless = mint(subject="nobody")
    for _ in range(5):
        assert client.get(PATH, headers=roleless).status_code == 403

    assert len(refusals(app.state.ctx.engine, 403)) == 5
