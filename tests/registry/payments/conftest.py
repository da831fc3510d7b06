"""The sandbox provider (its own process), a registry served over loopback HTTP that it notifies, and a funeral
home whose farewell hall has a published fee."""
from collections.abc import Iterator

import httpx
import pytest

from factories import create_resource
from kc_double.runner import BackgroundServer
from payment_sandbox import Sandbox, publish_fee, running_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as sandbox:
        yield sandbox


@pytest.fixture
def settings(database_url, tmp_path, sandbox):
    from registry.config import Settings

    return Settings(tenant_code="110000", tenant_slug="beijing", database_url=database_url,
                    keys_dir=tmp_path / "keys", environment="development", **sandbox.settings())


@pytest.fixture
def http(app) -> Iterator[httpx.Client]:
    """The registry over loopback HTTP: where the sandbox sends its notices."""
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield client


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


@pytest.fixture
def hall(client, admin, registrar, funeral_home):
    """A farewell hall whose booking costs the published fee."""
    item = publish_fee(client, admin, funeral_home["id"])
    return create_resource(client, registrar, funeral_home["id"], name="思源厅", capacity=5, service_item_id=item["id"])
