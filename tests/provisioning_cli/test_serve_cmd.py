"""`fsp serve`'s combined app: one isolated registry per tenant under /<slug>, an index at /."""
from fastapi.testclient import TestClient

from factories import institution_payload
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import build_gateway
from tenants import load_catalog


def test_nothing_provisioned_is_a_clear_error(fsp):
    result = fsp("serve", "--port", "1", ok=False)

    assert "nothing to serve" in result.stderr and "fsp up" in result.stderr


def test_gateway_mounts_each_served_tenant(fsp, home):
    fsp("up", "beijing", "tianjin")
    fsp("down", "tianjin")
    target = LocalTarget(home, load_catalog())
    gateway, specs = build_gateway(target)
    token = fsp("token", "beijing", "--role", "provincial-admin").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}

    with TestClient(gateway) as client:
        index = client.get("/").json()
        created = client.post("/beijing/api/v1/institutions", json=institution_payload(), headers=auth)
        on_ministry = client.post("/ministry/api/v1/institutions", json=institution_payload(), headers=auth)
        ready = client.get("/beijing/readyz")
        metrics = client.get("/beijing/metrics")
        down = client.get("/tianjin/healthz")
        unknown = client.get("/atlantis/healthz")
        posted_down = client.post("/tianjin/api/v1/exchange/batches", json={})

    assert [s.slug for s in specs] == ["ministry", "beijing"]
    assert [t["tenant"] for t in index["tenants"]] == ["ministry", "beijing"]
    assert index["tenants"][1]["api"] == "http://testserver/beijing/api/v1"
    assert created.status_code == 201, created.text
    assert on_ministry.status_code == 401  # another tenant's issuer
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    info = [line for line in metrics.text.splitlines() if line.startswith("fsp_build_info{")]
    assert len(info) == 1 and 'tenant="beijing"' in info[0]
    # a tenant of the catalog not served now answers 503 in the one error shape (a client tries again later)
    assert down.status_code == 503
    assert down.json()["errors"] == [{"field": "tenant", "rule": "tenant_not_served", "message": down.json()[
        "errors"][0]["message"]}] and "稍后再试" in down.json()["errors"][0]["message"]
    assert posted_down.status_code == 503 and posted_down.json()["errors"][0]["rule"] == "tenant_not_served"
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["rule"] == "exists"


def test_gateway_follows_up_and_down_without_a_restart(fsp, home):
    fsp("up", "beijing")
    gateway, _ = build_gateway(LocalTarget(home, load_catalog()), refresh_seconds=0)

    with TestClient(gateway) as client:
        before = client.get("/tianjin/healthz").status_code
        fsp("up", "tianjin")
        after_up = client.get("/tianjin/healthz").status_code
        listed = [t["tenant"] for t in client.get("/").json()["tenants"]]
        fsp("down", "beijing")
        after_down = client.get("/beijing/healthz").status_code
        fsp("up", "beijing")
        back = client.get("/beijing/healthz").status_code

    assert (before, after_up, after_down, back) == (503, 200, 503, 200)
    assert listed == ["ministry", "beijing", "tianjin"]


def test_a_browser_gets_the_provinces_and_each_portal_in_chinese(fsp, home):
    fsp("up", "beijing")
    gateway, _ = build_gateway(LocalTarget(home, load_catalog()))
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

    with TestClient(gateway) as client:
        index = client.get("/", headers=browser)
        as_json = client.get("/", headers={**browser, "Accept": "application/json"})
        portal = client.get("/beijing/", headers=browser)
        css = client.get("/static/portal.css")

    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in index.text
    assert '<a href="/beijing/">北京市</a>' in index.text and '<a href="/ministry/">' in index.text
    assert as_json.json()["tenants"][1]["portal"] == "http://testserver/beijing/"
    assert "<h1>北京市殡葬服务平台</h1>" in portal.text
    # the portal's links and stylesheet stay under the tenant's path; it links back to the index
    assert 'href="/beijing/institutions"' in portal.text and 'href="/beijing/static/portal.css"' in portal.text
    assert '<a href="/">全国各省份平台</a>' in portal.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_the_workbench_of_a_served_province_stays_under_its_path(fsp, home):
    from staff_signing import BASE, csrf_of

    fsp("up", "beijing")
    gateway, _ = build_gateway(LocalTarget(home, load_catalog()))
    with TestClient(gateway, base_url=BASE) as client:
        urls = client.get("/", headers={"Accept": "application/json"}).json()["tenants"]
        page = client.get("/beijing/workbench/sign-in")
        signed = client.post("/beijing/workbench/sign-in", data={"csrf_token": csrf_of(page.text), "username": "wang",
                                                                 "role": "auditor", "next": "/beijing/workbench/"},
                             follow_redirects=False)
        home_page = client.get("/beijing/workbench/")

    assert [entry["workbench"] for entry in urls if entry["tenant"] == "beijing"] == [f"{BASE}/beijing/workbench/"]
    assert 'action="/beijing/workbench/sign-in"' in page.text
    assert signed.status_code == 303 and signed.headers["location"] == "/beijing/workbench/"
    assert "Path=/beijing/workbench" in signed.headers["set-cookie"]
    assert home_page.status_code == 200 and 'href="/beijing/workbench/audit"' in home_page.text


def test_a_tenant_whose_key_was_swapped_is_not_served_and_the_others_are(fsp, home, caplog):
    from registry.security import crypto
    from registry.security.keys import PERSON_MATCH_KEY

    fsp("up", "beijing", "tianjin")
    (home / "tenants" / "tianjin" / "keys" / PERSON_MATCH_KEY).write_bytes(crypto.new_index_key())

    gateway, specs = build_gateway(LocalTarget(home, load_catalog()))

    assert [s.slug for s in specs] == ["ministry", "beijing"]
    with TestClient(gateway) as client:
        assert client.get("/beijing/healthz").status_code == 200
        assert client.get("/tianjin/healthz").status_code == 503
    assert any("tianjin is not served" in r.getMessage() and "replaced" in r.getMessage() for r in caplog.records)


def test_gateway_runs_each_provinces_sweeps_while_it_serves_and_stops_them(fsp, home):
    import time

    fsp("up", "beijing")
    gateway, _ = build_gateway(LocalTarget(home, load_catalog()), sweep_seconds=0.05)

    assert gateway.sweepers == {}  # nothing runs before the server starts
    with TestClient(gateway) as client:
        sweepers = gateway.sweepers
        deadline = time.monotonic() + 10
        while 'fsp_sweep_last_run_timestamp_seconds{sweep="complaint_escalation"}' not in (
                metrics := client.get("/beijing/metrics").text):
            assert time.monotonic() < deadline, "no sweep ran"
            time.sleep(0.05)

    assert list(sweepers) == ["beijing"]  # the ministry has nothing to sweep
    assert 'fsp_sweep_items_total{sweep="booking_expiry"} 0.0' in metrics
    assert not sweepers["beijing"].running and gateway.sweepers == {}
