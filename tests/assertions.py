"""Assertions shared by the tests: what a refusal must (not) leave behind, and what a page says."""
import re

from sqlalchemy import func
from sqlmodel import Session, select

from registry.audit.models import AuditEntry
from registry.outbox.models import OutboxEvent


def count(session: Session, model) -> int:
    session.rollback()  # a fresh transaction sees what the app committed since
    return session.exec(select(func.count()).select_from(model)).one()


def last_audit(session: Session) -> AuditEntry:
    session.rollback()
    return session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def last_event(session: Session) -> OutboxEvent | None:
    """The newest event of the outbox (in a fresh transaction: it sees what the app committed since)."""
    session.rollback()
    return session.exec(select(OutboxEvent).order_by(OutboxEvent.seq.desc()).limit(1)).first()


def assert_problem(response, status: int, field: str, rule: str) -> dict:
    """The one error shape, naming the field and the rule."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    problems = [(p["field"], p["rule"]) for p in body["errors"]]
    assert (field, rule) in problems, problems
    return body


def assert_refused_and_nothing_written(session: Session, before: dict, *models) -> None:
    """Only the refusal's audit entry was added; no entity, no outbox event."""
    for model in models:
        assert count(session, model) == before[model], f"{model.__name__} changed"
    assert count(session, OutboxEvent) == before[OutboxEvent]
    assert count(session, AuditEntry) == before[AuditEntry] + 1
    assert last_audit(session).result == "refused"


def snapshot(session: Session, *models) -> dict:
    return {model: count(session, model) for model in (*models, OutboxEvent, AuditEntry)}


def assert_hidden_like_a_missing_case(client, method: str, path: str, case_id, headers: dict,
                                      json: dict | None = None) -> None:
    """The refusal for an existing case is the one for a case id that does not exist, but for the id itself."""
    import uuid

    missing = str(uuid.uuid4())
    seen = client.request(method, path, json=json, headers=headers)
    unseen = client.request(method, path.replace(str(case_id), missing), json=json, headers=headers)
    assert (seen.status_code, unseen.status_code) == (404, 404), seen.text
    assert seen.text.replace(str(case_id), "<id>") == unseen.text.replace(missing, "<id>")


def text_of(html: str) -> str:
    """A page's words without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
