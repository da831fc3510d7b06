"""`fsp sharing deliver|status`: the departments of a province's catalog entry, over loopback."""
import json
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from factories import case_payload, create_institution, resident_id
from kc_double.runner import BackgroundServer
from provisioning_cli.targets.local import LocalTarget
from registry.app import create_app
from tenants import DEFAULT_CATALOG_DIR, load_catalog


@pytest.fixture
def department():
    """A department endpoint that acknowledges every batch (signatures are checked in the registry's tests)."""
    app, received = FastAPI(), []

    @app.post("/notices")
    async def notices(request: Request):
        if getattr(app.state, "down", False):
            return JSONResponse({"error": "down"}, status_code=503)
        batch = json.loads(await request.body())
        received.append(batch)
        return {"received_through": batch["last_seq"]}

    with BackgroundServer(app) as url:
        yield app, received, url


@pytest.fixture
def catalog(tmp_path: Path, department) -> Path:
    """The packaged catalog, with beijing sharing with public security and health at the loopback endpoint."""
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    entry = yaml.safe_load((directory / "beijing.yaml").read_text(encoding="utf-8"))
    entry["sharing"] = {"departments": {"public_security": department[2], "health": department[2]}}
    (directory / "beijing.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    return directory


@pytest.fixture
def registered(fsp, home: Path, catalog: Path) -> str:
    """beijing provisioned from that catalog, with one case declared and registered; its case id."""
    fsp("up", "beijing", "--catalog", str(catalog))
    target = LocalTarget(home, load_catalog(catalog))
    app = create_app(target.settings(target.catalog.resolve("beijing")))
    issuer = app.state.ctx.issuer
    try:
        with TestClient(app) as client:
            admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
            home_ = create_institution(client, admin, type="funeral_home")
            registrar = {"Authorization": "Bearer " + issuer.mint("reg", ["registrar"],
                                                                  institution_id=uuid.UUID(home_["id"]))}
            birth = date(1944, 4, 4)
            case = client.post("/api/v1/cases", headers=registrar, json=case_payload(
                home_["id"], birth_date=birth.isoformat(), id_number=resident_id(birth=birth, seq=4))).json()
            reviewer = {"Authorization": f"Bearer {issuer.mint('rev', ['reviewer'])}"}
            assert client.post(f"/api/v1/cases/{case['id']}/register", headers=reviewer).status_code == 200
    finally:
        app.state.ctx.engine.dispose()
    return case["id"]


def test_deliver_sends_each_department_its_notices_and_status_shows_none_waiting(fsp, catalog, department,
                                                                                registered):
    _, received, _ = department
    before = json.loads(fsp("sharing", "status", "--catalog", str(catalog), "--json").stdout)
    rows = json.loads(fsp("sharing", "deliver", "beijing", "--catalog", str(catalog), "--json").stdout)
    again = json.loads(fsp("sharing", "deliver", "--all", "--catalog", str(catalog), "--json").stdout)
    after = json.loads(fsp("sharing", "status", "--catalog", str(catalog), "--json").stdout)

    assert {(r["department"], r["waiting"]) for r in before} == {("public_security", 1), ("health", 1)}
    assert {(r["department"], r["delivered"], r["problem"]) for r in rows} == {("public_security", 1, None),
                                                                             ("health", 1, None)}
    assert {batch["department"] for batch in received} == {"public_security", "health"}
    assert all(batch["notices"][0]["case_id"] == registered for batch in received)
    assert {r["delivered"] for r in again} == {0}
    assert {r["waiting"] for r in after} == {0}


def test_a_department_down_is_an_error_and_a_later_run_catches_up(fsp, catalog, department, registered):
    app, received, _ = department
    app.state.down = True
    failed = fsp("sharing", "deliver", "beijing", "--department", "health", "--catalog", str(catalog), ok=False)
    assert "health" in failed.stderr and "503" in failed.stderr
    app.state.down = False
    rows = json.loads(fsp("sharing", "deliver", "beijing", "--department", "health", "--catalog", str(catalog),
                          "--json").stdout)
    assert [(r["department"], r["delivered"]) for r in rows] == [("health", 1)]


def test_bad_requests_are_clear_errors(fsp, catalog, home):
    assert "unknown department" in fsp("sharing", "deliver", "beijing", "--department", "police",
                                       "--catalog", str(catalog), ok=False).stderr
    assert "not provisioned" in fsp("sharing", "deliver", "beijing", "--catalog", str(catalog), ok=False).stderr
    assert "shares with no department" in fsp("sharing", "deliver", "tianjin", "--catalog", str(catalog),
                                              ok=False).stderr
    entry = yaml.safe_load((catalog / "tianjin.yaml").read_text(encoding="utf-8"))
    entry["sharing"] = {"departments": {"marriage": "http://10.1.2.3/notices"}}  # personal data in clear
    (catalog / "tianjin.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    refused = fsp("sharing", "status", "--catalog", str(catalog), ok=False)
    assert "only https" in refused.stderr


def test_fsp_serve_delivers_to_each_department_by_itself_and_retries_one_that_is_down(fsp_json, home, catalog,
                                                                                     department, registered):
    import time

    from provisioning_cli.targets.local_serve import build_gateway

    app, received, _url = department
    app.state.down = True  # it answers 503 at first: retried with backoff, counted, nothing lost
    gateway, _ = build_gateway(LocalTarget(home, load_catalog(catalog)), ship_seconds=0.1)

    with TestClient(gateway) as client:
        def failures() -> str:
            return client.get("/beijing/metrics").text

        deadline = time.monotonic() + 20
        while 'fsp_background_failures_total{reason="unavailable",work="sharing-health"}' not in failures():
            assert time.monotonic() < deadline, "no failed delivery counted"
            time.sleep(0.05)
        assert received == [] and set(gateway.workers.of("sharing-health")) == {"beijing"}
        app.state.down = False
        # delivered, and the round that delivered ended
        while {batch["department"] for batch in received} != {"public_security", "health"} or \
                'fsp_background_last_success_timestamp_seconds{work="sharing-public_security"}' not in (
                    metrics := failures()):
            assert time.monotonic() < deadline, f"not delivered: {received}"
            time.sleep(0.05)

    assert [batch["notices"][0]["case_id"] for batch in received] == [registered, registered]
    assert 'fsp_background_failures_total{reason="unavailable",work="sharing-health"}' in metrics
    assert {row["waiting"] for row in fsp_json("sharing", "status", "--catalog", str(catalog))} == {0}
    assert gateway.workers.of("sharing-health") == {}  # stopped with the server
