"""办件查询: anyone with a query code sees where their item stands; unknown and wrong codes alike are not found,
misses are limited per client, every lookup counted."""
import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from registry import online_status, query_codes
from registry.audit.models import AuditEntry
from registry.online_status_api import CODE_PATTERN
from registry.query_codes import PublicStatus

LOOKUP = "/api/v1/status-lookups"
CODE = query_codes.new_code()
UPDATED = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def fake_resolver(session, digest: str) -> PublicStatus | None:
    """A service that has one item, under CODE."""
    if digest == query_codes.digest(CODE):
        return PublicStatus(kind="approval", number="110000-SP-2026-000001", status="accepted", updated_at=UPDATED,
                            due_on=datetime(2026, 12, 14, 16, 0, tzinfo=UTC))
    return None


@pytest.fixture(autouse=True)
def one_service(monkeypatch):
    monkeypatch.setattr(online_status, "RESOLVERS", (lambda session, digest: None, fake_resolver))


def _outcomes(app, outcome: str) -> float | None:
    return app.state.ctx.metrics.registry.get_sample_value("fsp_status_lookups_total", {"outcome": outcome})


def test_a_code_as_typed_answers_the_status_and_nothing_else(client, app):
    typed = " " + CODE.lower().replace("-", " ") + " "
    response = client.post(LOOKUP, json={"code": typed})
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "approval", "number": "110000-SP-2026-000001", "status": "accepted",
                               "updated_at": "2026-11-30T10:00:00+08:00", "due_on": "2026-12-15T00:00:00+08:00"}
    assert _outcomes(app, "found") == 1


def test_unknown_and_wrong_codes_get_the_same_answer(client, app):
    other = query_codes.new_code()
    mistyped = CODE[:-1] + ("A" if CODE[-1] != "A" else "B")
    answers = [client.post(LOOKUP, json={"code": code}) for code in (other, mistyped)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    problem = answers[0].json()["errors"][0]
    assert (problem["field"], problem["rule"]) == ("code", "query_code_unknown")
    assert problem["message"] == "没有查到与该查询码相符的办件。请核对后重新输入。"
    assert _outcomes(app, "not_found") == 2


def test_a_malformed_code_is_refused_with_its_rule(client, app):
    response = client.post(LOOKUP, json={"code": "ABCD-EFGH-JKM0"})
    assert response.status_code == 400
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["rule"]) == ("code", "query_code_format")
    assert "查询码格式不正确" in problem["message"]
    assert client.post(LOOKUP, json={"code": ""}).status_code == 422
    assert _outcomes(app, "malformed") == 1


def test_misses_are_limited_per_client_and_the_trip_audited_once(client, app, session):
    limit = app.state.ctx.query_attempts.max_failures
    for _ in range(limit):
        assert client.post(LOOKUP, json={"code": query_codes.new_code()}).status_code == 404
    refused = client.post(LOOKUP, json={"code": CODE})
    assert refused.status_code == 429, "blocked: even the right code waits"
    assert refused.json()["errors"][0]["rule"] == "too_many_attempts"
    assert refused.headers["Retry-After"].isdigit()
    assert client.post(LOOKUP, json={"code": "x"}).status_code == 429
    session.rollback()
    audited = session.exec(select(AuditEntry).where(AuditEntry.action == "status.lookup")).all()
    assert len(audited) == 1, "one entry when the limit trips, not one per refused request"
    assert _outcomes(app, "limited") == 2


def test_a_found_code_costs_no_attempt(client, app):
    app.state.ctx.query_attempts.max_failures = 2
    for _ in range(5):
        assert client.post(LOOKUP, json={"code": CODE}).status_code == 200
    assert not app.state.ctx.query_attempts.blocked("testclient")


def test_the_count_is_on_metrics(client):
    client.post(LOOKUP, json={"code": CODE})
    assert 'fsp_status_lookups_total{outcome="found"} 1.0' in client.get("/metrics").text


def test_the_documented_pattern_is_what_a_query_code_is():
    pattern = re.compile(CODE_PATTERN)
    for _ in range(50):
        code = query_codes.new_code()
        assert pattern.match(code) and pattern.match(code.lower().replace("-", " "))
    for typed in ("ABCD-EFGH-JKM", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMI", "ABCD-EFGH-JKMNP"):
        assert not pattern.match(typed) and not query_codes.well_formed(typed)
