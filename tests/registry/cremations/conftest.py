"""A funeral home, its registrar, and cases at each step before and after cremation."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, snapshot
from factories import create_institution, declare_case


def _cremation_payload(institution_id, **overrides) -> dict:
    started = datetime.now(UTC) - timedelta(hours=3)
    payload = {"institution_id": str(institution_id), "started_at": started.isoformat(),
               "ended_at": (started + timedelta(minutes=75)).isoformat(), "furnace_no": "F-03",
               "operator_name": "李师傅"}
    payload.update(overrides)
    return payload


@pytest.fixture
def cremation_payload():
    """`cremation_payload(institution_id, **overrides)`: a valid cremation record, started three hours ago."""
    return _cremation_payload


@pytest.fixture
def admin(mint):
    return mint("provincial-admin")


@pytest.fixture
def funeral_home(client, admin):
    return create_institution(client, admin, type="funeral_home")


@pytest.fixture
def registrar(mint, funeral_home):
    return mint("registrar", institution_id=uuid.UUID(funeral_home["id"]), subject="registrar-fh")


@pytest.fixture
def register(client, mint):
    """Move a declared case to registered, as a reviewer does."""
    def _register(case: dict) -> dict:
        response = client.post(f"/api/v1/cases/{case['id']}/register", headers=mint("reviewer"))
        assert response.status_code == 200, response.text
        return response.json()

    return _register


@pytest.fixture
def registered_case(client, registrar, funeral_home, register):
    return register(declare_case(client, registrar, funeral_home["id"]))


@pytest.fixture
def cremated_case(client, registrar, funeral_home, registered_case):
    response = client.post(f"/api/v1/cases/{registered_case['id']}/cremation",
                           json=_cremation_payload(funeral_home["id"]), headers=registrar)
    assert response.status_code == 201, response.text
    return registered_case


@pytest.fixture
def expect_refusal(client, session):
    """POST, expect the error naming field and rule, and check that only the refusal's audit entry was written."""
    def _check(path: str, payload: dict | None, headers: dict, status: int, field: str, rule: str, *models) -> dict:
        before = snapshot(session, *models)
        session.rollback()  # end the read: on SQLite the app's engine begins every transaction IMMEDIATE
        response = client.post(path, json=payload, headers=headers)
        body = assert_problem(response, status, field, rule)
        assert_refused_and_nothing_written(session, before, *models)
        session.rollback()
        return body

    return _check
