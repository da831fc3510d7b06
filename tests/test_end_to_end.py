"""The local target end to end, as a newcomer runs it: `fsp up --pilots`, `fsp serve`, real HTTP, `fsp down`.

Everything goes through the installed `fsp` console script in subprocesses and httpx on loopback.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from factories import case_payload, institution_payload
from loopback import free_port

FSP = str(Path(sys.executable).with_name("fsp"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FSP_")}
    return {**clean, "FSP_HOME": str(tmp_path / "fsp-home")}


def fsp(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([FSP, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"fsp {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"fsp serve exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/ministry/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"fsp serve did not answer within 60 s:\n{log.read_text()}")


def bearer(env: dict[str, str], tenant: str, *args: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {fsp(env, 'token', tenant, *args).strip()}"}


def test_provision_serve_use_and_purge(env, tmp_path):
    provisioned = json.loads(fsp(env, "up", "--pilots", "--json"))["resources"]
    assert {r["tenant"] for r in provisioned} == {"ministry", "beijing", "tianjin", "shandong", "yunnan", "shaanxi"}
    assert {r["outcome"] for r in provisioned} == {"created"}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([FSP, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base, server, log)
        with httpx.Client(base_url=base, timeout=30) as http:
            index = http.get("/").json()
            assert [t["tenant"] for t in index["tenants"]][:2] == ["ministry", "beijing"]

            # an institution and a case in each of two provinces
            admins = {slug: bearer(env, slug, "--role", "provincial-admin") for slug in ("beijing", "shandong")}
            regions = {"beijing": "110107", "shandong": "370102"}
            institutions = {}
            for slug, headers in admins.items():
                made = http.post(f"/{slug}/api/v1/institutions", headers=headers,
                                 json=institution_payload(region_code=regions[slug]))
                assert made.status_code == 201, made.text
                institutions[slug] = made.json()["id"]
            for slug, institution in institutions.items():
                registrar = bearer(env, slug, "--role", "registrar", "--institution", institution)
                case = http.post(f"/{slug}/api/v1/cases", headers=registrar, json=case_payload(institution))
                assert case.status_code == 201, case.text
                listed = http.get(f"/{slug}/api/v1/cases", headers=registrar)
                assert listed.status_code == 200 and listed.json()["count"] == 1, listed.text

            # a beijing token means nothing to shandong
            foreign = http.post("/shandong/api/v1/institutions", headers=admins["beijing"],
                                json=institution_payload(region_code="370102"))
            assert foreign.status_code == 401, foreign.text

            # a registrar bound to one institution cannot write for another
            other = http.post("/beijing/api/v1/institutions", headers=admins["beijing"], json=institution_payload())
            assert other.status_code == 201, other.text
            bound = bearer(env, "beijing", "--role", "registrar", "--institution", institutions["beijing"])
            elsewhere = http.post("/beijing/api/v1/cases", headers=bound, json=case_payload(other.json()["id"]))
            assert elsewhere.status_code == 403, elsewhere.text

        status = {row["tenant"]: row for row in json.loads(fsp(env, "status", "--json"))}
        for slug in ("ministry", "beijing", "shandong"):
            row = status[slug]
            assert row["provisioned"] and row["served"], row
            assert row["migration"] == row["head"], row
            assert row["endpoint"] == f"{base}/{slug}/api/v1"
        assert status["hebei"]["provisioned"] is False
    finally:
        server.terminate()
        server.wait(timeout=30)

    purged = json.loads(fsp(env, "down", "beijing", "--purge", "--yes", "--json"))
    assert {r["outcome"] for r in purged} == {"deleted"}
    after = {row["tenant"]: row for row in json.loads(fsp(env, "status", "--json"))}
    assert after["beijing"]["provisioned"] is False
    assert after["shandong"]["provisioned"] is True
