"""A funeral home with a farewell hall of two places a slot, its registrar, and two citizens."""
import uuid

import pytest

from factories import create_institution, create_resource


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


@pytest.fixture
def funeral_home(client, admin):
    return create_institution(client, admin, type="funeral_home")


@pytest.fixture
def registrar(mint, funeral_home):
    return mint("registrar", institution_id=uuid.UUID(funeral_home["id"]), subject="registrar-fh")


@pytest.fixture
def hall(client, registrar, funeral_home):
    return create_resource(client, registrar, funeral_home["id"], name="思源厅", capacity=2)


@pytest.fixture
def citizen(mint):
    return mint("citizen", subject="citizen-0001")


@pytest.fixture
def other_citizen(mint):
    return mint("citizen", subject="citizen-0002")
