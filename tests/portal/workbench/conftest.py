"""A province's site with its workbench, and browsers signed in to it with a role."""
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from staff_signing import BASE, sign_in


@pytest.fixture
def browser_client(site) -> Callable[[], TestClient]:
    """`browser_client()`: a new client (a browser with its own cookies) on the site."""
    clients = []

    def make() -> TestClient:
        client = TestClient(site, base_url=BASE)
        client.__enter__()
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def staff_client(browser_client) -> Callable[..., TestClient]:
    """`staff_client("registrar", institution_id)`: a browser signed in with that role."""
    def signed_in(role: str, institution_id: str = "", *, username: str | None = None) -> TestClient:
        client = browser_client()
        answer = sign_in(client, username or f"{role}-1", role, institution_id)
        assert answer.status_code == 303, answer.text
        return client
    return signed_in


@pytest.fixture
def institution_id(site_client, admin) -> Iterator[str]:
    from factories import institution_payload

    made = site_client.post("/api/v1/institutions", headers=admin, json=institution_payload(name="八宝山殡仪馆"))
    assert made.status_code == 201, made.text
    return made.json()["id"]
