"""Institutions of every type, registrars bound to them, and cases at each step of their flow."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from factories import create_institution, declare_case


@pytest.fixture
def make_institution(client, admin):
    """`make_institution("public_cemetery")` → the created institution."""
    return lambda type: create_institution(client, admin, type=type)


@pytest.fixture
def registrar_of(mint):
    """`registrar_of(institution)` → headers of a registrar bound to it."""
    return lambda institution, subject="tester": mint("registrar", institution_id=uuid.UUID(institution["id"]),
                                                      subject=subject)






@pytest.fixture
def reviewer(mint):
    return mint("reviewer")


@pytest.fixture
def case_status(client, reviewer):
    return lambda case: client.get(f"/api/v1/cases/{case['id']}", headers=reviewer).json()["status"]


@pytest.fixture
def advance(client, reviewer):
    """`advance(case, "register" | "cremate" | "close" | "archive", headers)`: one step of the case's flow."""
    def _advance(case: dict, step: str, headers: dict) -> dict:
        path = f"/api/v1/cases/{case['id']}"
        if step == "cremate":
            started = datetime.now(UTC) - timedelta(hours=5)
            response = client.post(f"{path}/cremation", headers=headers, json={
                "institution_id": case["institution_id"], "started_at": started.isoformat(),
                "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01",
                "operator_name": "李师傅"})
        else:
            response = client.post(f"{path}/{step}", headers=reviewer if step in ("register", "archive") else headers)
        assert response.status_code in (200, 201), response.text
        return case

    return _advance


@pytest.fixture
def case_at(client, advance):
    """`case_at(institution, headers, status)`: a case of that institution brought to `status` (or `archived`)."""
    steps = {"declared": [], "registered": ["register"], "cremated": ["register", "cremate"],
             "closed": ["register", "cremate", "close"], "archived": ["register", "cremate", "close", "archive"]}

    def _case_at(institution: dict, headers: dict, status: str) -> dict:
        case = declare_case(client, headers, institution["id"])
        for step in steps[status]:
            advance(case, step, headers)
        return case

    return _case_at


@pytest.fixture
def declared_case(case_at, funeral_home, registrar):
    return case_at(funeral_home, registrar, "declared")


@pytest.fixture
def cremated_case(case_at, funeral_home, registrar):
    return case_at(funeral_home, registrar, "cremated")




@pytest.fixture
def recorded(session):
    """After a successful write: the newest outbox events and audit entries, as (type, id) and (action, id, result)."""
    from sqlmodel import col, select

    from registry.audit.models import AuditEntry
    from registry.outbox.models import OutboxEvent

    def _recorded(n: int = 1) -> tuple[list, list]:
        session.expire_all()
        events = [(e.event_type, e.aggregate_id, e.payload) for e in session.exec(
            select(OutboxEvent).order_by(col(OutboxEvent.seq).desc()).limit(n))]
        entries = [(e.action, e.object_id, e.result) for e in session.exec(
            select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(n))]
        session.rollback()  # end the read before the next request (see expect_refusal)
        return events, entries

    return _recorded
