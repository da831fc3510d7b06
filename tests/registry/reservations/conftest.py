"""A funeral home with a farewell hall of two places a slot, its registrar, and two citizens."""

import pytest

from factories import create_resource


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


@pytest.fixture
def hall(client, registrar, funeral_home):
    return create_resource(client, registrar, funeral_home["id"], name="思源厅", capacity=2)
