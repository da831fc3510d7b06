"""Assertions shared by the registry tests: what a refusal must (not) leave behind."""
from sqlalchemy import func
from sqlmodel import Session, select

from registry.audit.models import AuditEntry
from registry.outbox.models import OutboxEvent


def count(session: Session, model) -> int:
    session.rollback()  # a fresh transaction sees what the app committed since
    return session.exec(select(func.count()).select_from(model)).one()


def last_audit(session: Session) -> AuditEntry:
    session.rollback()
    return session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()


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
