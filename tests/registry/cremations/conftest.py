"""A funeral home, its registrar, and cases at each step before and after cremation."""
from datetime import UTC, datetime, timedelta

import pytest

from factories import declare_case


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

