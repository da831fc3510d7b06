"""A province (the standard `app`, `client`, `mint` on `database_url`) and a ministry on a second database of the
same backend, served by uvicorn on loopback; the province's exchange key is registered with the ministry."""
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from factories import create_institution, declare_case
from infra.ensure.keys import ensure_tenant_keys
from infra.ensure.registration import ensure_exchange_registration
from kc_double.runner import BackgroundServer
from registry.app import create_app
from registry.config import Role, Settings
from registry.exchange.models import NationalEvent
from registry.exchange.shipper import Shipper
from registry.exchange.signing import BatchSigner, public_key_set


@pytest.fixture
def ministry_database_url(fresh_database, tmp_path: Path) -> Iterator[str]:
    """A second fresh, migrated database on the test's backend: the ministry's."""
    directory = tmp_path / "ministry"
    directory.mkdir()
    with fresh_database(directory) as url:
        yield url


@pytest.fixture
def province_keys(tmp_path: Path) -> Path:
    """beijing's keys as provisioning makes them (the `settings` fixture's keys_dir), exchange pair included."""
    keys = tmp_path / "keys"
    ensure_tenant_keys(keys)
    return keys


@pytest.fixture
def peers_dir(province_keys: Path, tmp_path: Path) -> Path:
    """The ministry's trusted peers, with beijing's exchange public key registered as provisioning does."""
    peers = tmp_path / "exchange-peers"
    ensure_exchange_registration(peers, slug="beijing", public_pem=public_key_set(province_keys))
    return peers


@pytest.fixture
def ministry_settings(ministry_database_url: str, peers_dir: Path, tmp_path: Path) -> Settings:
    return Settings(tenant_code="100000", tenant_slug="ministry", role=Role.ministry,
                    database_url=ministry_database_url, keys_dir=tmp_path / "ministry-keys",
                    exchange_peers_dir=peers_dir, environment="development")


@pytest.fixture
def ministry(ministry_settings: Settings) -> Iterator[tuple[str, Session]]:
    """(base URL of the ministry's registry app on loopback, a session on the ministry's database)."""
    app = create_app(ministry_settings)
    engine = app.state.ctx.engine
    with BackgroundServer(app) as url, Session(engine) as session:
        yield url, session
    engine.dispose()


@pytest.fixture
def ministry_url(ministry) -> str:
    return ministry[0]


@pytest.fixture
def ministry_session(ministry) -> Session:
    """Look at the ministry's database; call .rollback() before each look to see what was committed since."""
    return ministry[1]


@pytest.fixture
def declare(client, mint) -> Callable[[int], list[dict]]:
    """`declare(n)`: n cases declared in the province (each one outbox event), after one institution (one more)."""
    admin = mint("provincial-admin")
    home = create_institution(client, admin, type="funeral_home")
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]), subject="registrar-fh")
    return lambda n: [declare_case(client, registrar, home["id"]) for _ in range(n)]


@pytest.fixture
def make_shipper(app, settings: Settings, peers_dir: Path) -> Iterator[Callable[..., Shipper]]:
    """`make_shipper(url, **overrides)`: the province's shipper, signing with its provisioned exchange key."""
    clients: list[httpx.Client] = []

    def _make(url: str, **overrides) -> Shipper:
        clients.append(httpx.Client(timeout=5))
        options = dict(engine=app.state.ctx.engine, signer=BatchSigner(settings.keys_dir), url=url,
                       province=settings.tenant_slug, province_code=settings.tenant_code, client=clients[-1],
                       retry_attempts=2, retry_base_seconds=0)
        return Shipper(**{**options, **overrides})

    yield _make
    for client in clients:
        client.close()


@pytest.fixture
def national_count(ministry_session: Session) -> Callable[..., int]:
    """`national_count(province_slug="beijing")`: rows of the national table the ministry committed."""
    def _count(**where) -> int:
        ministry_session.rollback()
        query = select(func.count()).select_from(NationalEvent)
        for name, value in where.items():
            query = query.where(getattr(NationalEvent, name) == value)
        return ministry_session.exec(query).one()

    return _count
