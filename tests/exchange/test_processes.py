"""`python -m registry.exchange exchange-hub|exchange-worker` as the Kubernetes pods run them: real processes,
settings from FSP_* variables, HTTP on loopback, probes answered, a clean exit on SIGTERM."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func
from sqlmodel import Session, select

from assertions import last_audit
from factories import create_institution, declare_case
from infra.ensure.keys import ensure_tenant_keys
from infra.ensure.registration import ensure_exchange_registration
from registry.app import create_app
from registry.config import Settings
from registry.exchange.models import NationalEvent
from registry.exchange.processes import create_hub_app
from registry.exchange.signing import SIGNATURE_HEADER, public_key_set


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FSP_")}
    return {**env, "FSP_EXCHANGE_HOST": "127.0.0.1", **{f"FSP_{k.upper()}": v for k, v in settings.items()}}


def _wait_for(check: Callable[[], bool], what: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}:\n{process.stderr.read()}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds}s")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """`start(component, **settings)`: the process, stopped (SIGKILL) at the end if a test left it running."""
    processes: list[subprocess.Popen] = []

    def _start(component: str, **settings: str) -> subprocess.Popen:
        processes.append(subprocess.Popen([sys.executable, "-m", "registry.exchange", component], env=_env(**settings),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return processes[-1]

    yield _start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _database(template: Path, path: Path) -> str:
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def test_the_worker_ships_to_the_hub_and_both_stop_cleanly_on_sigterm(start, tmp_path, request):
    template = request.getfixturevalue("_sqlite_template")
    ministry_url, province_url = _database(template, tmp_path / "m.db"), _database(template, tmp_path / "p.db")
    keys, peers = tmp_path / "keys", tmp_path / "peers"
    ensure_tenant_keys(keys)
    ensure_tenant_keys(tmp_path / "ministry-keys")  # the hub seals the ministry's audit entries with its key
    ensure_exchange_registration(peers, slug="beijing", public_pem=public_key_set(keys))
    province = create_app(Settings(database_url=province_url, keys_dir=keys))
    with TestClient(province) as client:
        issuer = province.state.ctx.issuer
        admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
        institution = create_institution(client, admin, type="funeral_home")
        registrar = issuer.mint("registrar", ["registrar"], institution_id=uuid.UUID(institution["id"]))
        for _ in range(3):
            declare_case(client, {"Authorization": f"Bearer {registrar}"}, institution["id"])
    province.state.ctx.engine.dispose()
    hub_port, worker_port = _free_port(), _free_port()

    hub = start("exchange-hub", role="ministry", tenant_slug="ministry", tenant_code="100000",
                database_url=ministry_url, keys_dir=str(tmp_path / "ministry-keys"), exchange_peers_dir=str(peers),
                exchange_port=str(hub_port))
    _wait_for(lambda: httpx.get(f"http://127.0.0.1:{hub_port}/readyz").status_code == 200, "hub ready", hub)
    worker = start("exchange-worker", role="province", tenant_slug="beijing", tenant_code="110000",
                   database_url=province_url, keys_dir=str(keys), exchange_url=f"http://127.0.0.1:{hub_port}",
                   exchange_interval_seconds="0.2", exchange_port=str(worker_port))
    national = create_engine(ministry_url)

    def all_arrived() -> bool:
        with Session(national) as session:
            return session.exec(select(func.count()).select_from(NationalEvent)).one() == 4

    _wait_for(all_arrived, "4 events in the national table", worker)
    national.dispose()
    worker_metrics = httpx.get(f"http://127.0.0.1:{worker_port}/metrics").text
    hub_metrics = httpx.get(f"http://127.0.0.1:{hub_port}/metrics").text
    worker_ready = httpx.get(f"http://127.0.0.1:{worker_port}/readyz")
    for process in (worker, hub):
        process.send_signal(signal.SIGTERM)

    assert "fsp_exchange_events_shipped_total 4.0" in worker_metrics
    assert 'fsp_exchange_events_received_total{province="beijing"} 4.0' in hub_metrics
    assert worker_ready.status_code == 200
    assert worker.wait(timeout=20) == 0 and hub.wait(timeout=20) == 0
    assert "Finished server process" in worker.stderr.read()


def test_a_process_started_without_what_it_needs_says_so(start, tmp_path):
    hub = start("exchange-hub", role="province", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    worker = start("exchange-worker", database_url=f"sqlite:///{tmp_path / 'y.db'}")

    assert hub.wait(timeout=30) == 1 and "FSP_ROLE must be ministry" in hub.stderr.read()
    assert worker.wait(timeout=30) == 1 and "FSP_EXCHANGE_URL" in worker.stderr.read()


def test_the_hub_serves_only_the_exchange_and_audits_oversized_batches(ministry_settings, ministry_session):
    app = create_hub_app(ministry_settings.model_copy(update={"max_body_bytes": 1024, "exchange_max_batch_bytes": 2048}))
    with TestClient(app) as client:
        # a batch may be larger than other requests (up to exchange_max_batch_bytes), never larger than that
        large = client.post("/api/v1/exchange/batches", content=b"{" + b" " * 1500 + b"}",
                            headers={SIGNATURE_HEADER: "x"})
        oversized = client.post("/api/v1/exchange/batches", content=b"{" + b" " * 4096 + b"}",
                                headers={SIGNATURE_HEADER: "x"})
        registry_route = client.get("/api/v1/institutions")
        ready = client.get("/readyz")
        metrics = client.get("/metrics").text

    assert large.status_code == 401  # past the size check, refused for its signature
    assert oversized.status_code == 413
    refused = last_audit(ministry_session)
    assert (refused.result, refused.action) == ("refused", "POST /api/v1/exchange/batches")
    assert registry_route.status_code == 404  # the hub exposes nothing of the ministry's registry API
    assert ready.status_code == 200
    assert 'fsp_exchange_refusals_total{reason="too_large"} 1.0' in metrics


def test_the_hub_is_not_ready_without_its_peers_directory(ministry_settings, tmp_path):
    app = create_hub_app(ministry_settings.model_copy(update={"exchange_peers_dir": tmp_path / "absent"}))
    with TestClient(app) as client:
        ready = client.get("/readyz")

    assert ready.status_code == 503 and "peers directory" in ready.json()["reason"]
