"""A real `fsp serve` process doing the fleet's work by itself: each province's outbox shipped to the ministry
without anyone running `fsp exchange ship` (retried while the ministry is down, shipped when it is back), and a
tenant purged and provisioned again between two requests answered by its new incarnation."""
import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from factories import institution_payload
from loopback import eventually
from provisioning_cli.targets.local import LocalTarget
from registry import tenant_status
from served import ServeProcess
from served_province import Province
from tenants import load_catalog


def sample(url: str, slug: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(httpx.get(f"{url}/{slug}/metrics", timeout=5).text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def test_serve_ships_by_itself_retries_a_ministry_that_is_down_and_ships_when_it_is_back(fsp, fsp_json, home,
                                                                                        tmp_path):
    fsp("up", "beijing")
    target = LocalTarget(home, load_catalog())

    def beijing() -> dict:
        return next(row for row in fsp_json("exchange", "status") if row["tenant"] == "beijing")

    with ServeProcess(home, tmp_path / "serve.log", "--ship-interval", "0.2", "--sweep-interval", "0") as url:
        province = Province.of(target, url)
        province.institution()
        shipped = eventually("beijing's outbox at the ministry", lambda: (
            row if (row := beijing())["pending"] == 0 and row["acknowledged_at_ministry"] == row["outbox_head"] > 0
            else None))
        assert sample(url, "beijing", "fsp_background_last_success_timestamp_seconds", work="exchange") > 0

        fsp("down", "ministry")  # the gateway answers 503 tenant_not_served for it from now on
        province.institution()
        eventually("shipping retried as unreachable", lambda: (sample(
            url, "beijing", "fsp_background_failures_total", work="exchange", reason="unreachable") or 0) >= 2)
        waiting = beijing()
        assert waiting["pending"] == 1 and waiting["acknowledged_at_ministry"] == shipped["outbox_head"]
        assert sample(url, "beijing", "fsp_exchange_failures_total", reason="rejected") == 0  # never "refused"
        assert sample(url, "beijing", "fsp_exchange_worker_stopped") == 0

        fsp("up", "ministry")
        back = eventually("beijing's outbox shipped once the ministry is back", lambda: (
            row if (row := beijing())["pending"] == 0 else None))

    assert back["acknowledged_at_ministry"] == back["outbox_head"] == shipped["outbox_head"] + 1
    log = (tmp_path / "serve.log").read_text()
    assert "unreachable" in log and "refused the batch" not in log


def test_serve_with_ship_interval_zero_ships_nothing(fsp, fsp_json, home, tmp_path):
    fsp("up", "beijing")

    with ServeProcess(home, tmp_path / "serve.log", "--ship-interval", "0", "--sweep-interval", "0") as url:
        Province.of(LocalTarget(home, load_catalog()), url).institution()
        assert sample(url, "beijing", "fsp_exchange_worker_stopped") is None  # no shipper for beijing
        row = next(row for row in fsp_json("exchange", "status") if row["tenant"] == "beijing")

    assert row["pending"] >= 1 and row["acknowledged_at_ministry"] == 0


def test_a_tenant_purged_and_provisioned_again_between_two_requests_is_answered_by_its_new_incarnation(
        fsp, home, tmp_path):
    fsp("up", "beijing")
    old_token = fsp("token", "beijing", "--role", "provincial-admin").stdout.strip()

    with ServeProcess(home, tmp_path / "serve.log", "--ship-interval", "0") as url:
        api = f"{url}/beijing/api/v1/institutions"
        Province.of(LocalTarget(home, load_catalog()), url).institution()
        before = httpx.get(api, timeout=5).json()["count"]
        state = json.loads((home / "tenants" / "beijing" / "state.json").read_text())

        fsp("down", "beijing", "--purge", "--yes")
        fsp("up", "beijing")
        new_token = fsp("token", "beijing", "--role", "provincial-admin").stdout.strip()
        old = httpx.post(api, json=institution_payload(), headers={"Authorization": f"Bearer {old_token}"}, timeout=5)
        new = httpx.post(api, json=institution_payload(), headers={"Authorization": f"Bearer {new_token}"}, timeout=5)
        after = httpx.get(api, timeout=5).json()["count"]

    again = json.loads((home / "tenants" / "beijing" / "state.json").read_text())
    assert again["incarnation"] != state["incarnation"]
    # one incarnation: the one the new database holds (its exchange epoch), not a second id of its own
    local = LocalTarget(home, load_catalog())
    with local.engine(local.catalog.resolve("beijing")) as engine:
        assert again["incarnation"] == tenant_status.read(engine).incarnation
    assert old.status_code == 401  # the old incarnation's issuer key is gone with it
    assert new.status_code == 201, new.text
    assert (before, after) == (1, 1)  # the new database holds only what was made after


def test_a_ministry_refusing_stops_the_shipper_with_its_reason_until_the_tenant_is_converged_again(fsp, home):
    from fastapi.testclient import TestClient
    from starlette.responses import JSONResponse

    from kc_double.runner import BackgroundServer
    from provisioning_cli.targets.local_serve import build_gateway

    async def refusing(scope, receive, send):
        body = {"status": 401, "title": "unauthorized",
                "errors": [{"field": "signature", "rule": "signature", "message": "key not registered"}]}
        await JSONResponse(body, status_code=401)(scope, receive, send)

    fsp("up", "beijing")
    with BackgroundServer(refusing) as ministry:
        gateway, _ = build_gateway(LocalTarget(home, load_catalog()), refresh_seconds=0, ship_seconds=0.05,
                                   ministry_url=ministry)
        token = fsp("token", "beijing", "--role", "provincial-admin").stdout.strip()
        with TestClient(gateway) as client:
            assert client.post("/beijing/api/v1/institutions", json=institution_payload(),
                               headers={"Authorization": f"Bearer {token}"}).status_code == 201  # one event to ship
            first = eventually("the shipper stopped", lambda: (
                work if (work := gateway.workers.of("exchange")["beijing"]).stopped_reason else None), timeout=10)
            metrics = client.get("/beijing/metrics").text
            fsp("up", "beijing")  # what an operator runs once the key is registered
            client.get("/beijing/healthz")
            again = gateway.workers.of("exchange")["beijing"]

    assert first.stopped_reason.startswith("unauthorized:") and "registered" in first.stopped_reason
    assert "fsp_exchange_worker_stopped 1.0" in metrics
    assert 'fsp_background_failures_total{reason="unauthorized",work="exchange"} 1.0' in metrics
    assert again is not first  # started anew; it stops again only if refused again
