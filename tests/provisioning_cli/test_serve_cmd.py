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

    assert [s.slug for s in specs] == ["ministry", "beijing"]
    assert [t["tenant"] for t in index["tenants"]] == ["ministry", "beijing"]
    assert index["tenants"][1]["api"] == "http://testserver/beijing/api/v1"
    assert created.status_code == 201, created.text
    assert on_ministry.status_code == 401  # another tenant's issuer
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    info = [line for line in metrics.text.splitlines() if line.startswith("fsp_build_info{")]
    assert len(info) == 1 and 'tenant="beijing"' in info[0]
    assert down.status_code == 404


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

    assert (before, after_up, after_down, back) == (404, 200, 404, 200)
    assert listed == ["ministry", "beijing", "tianjin"]
