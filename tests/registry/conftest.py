"""Fixtures the registry's domain tests share: a funeral home, its registrar, two citizens, and the refusal check."""
import uuid

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, snapshot
from factories import create_institution


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
def citizen(mint):
    return mint("citizen", subject="citizen-0001")


@pytest.fixture
def other_citizen(mint):
    return mint("citizen", subject="citizen-0002")


@pytest.fixture
def expect_refusal(client, session):
    """POST, expect the error naming field and rule, and check that only the refusal's audit entry was written."""
    def _check(path: str, payload: dict | None, headers: dict, status: int, field: str, rule: str, *models) -> dict:
        before = snapshot(session, *models)
        response = client.post(path, json=payload, headers=headers)
        body = assert_problem(response, status, field, rule)
        assert_refused_and_nothing_written(session, before, *models)
        return body

    return _check
