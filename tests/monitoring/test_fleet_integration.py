"""The fleet's monitoring for real: two tenants served over HTTP, a Prometheus each, the ministry's federating them.

Short scrape and evaluation intervals (1 s) and alerts without `for` keep it to seconds; every wait polls with a
deadline. The Prometheus processes are started by `fsp monitoring up` on free loopback ports under the test's
$FSP_HOME, and stopped by `fsp monitoring down`.
"""
import json

import httpx

from loopback import eventually, free_port
from monitoring.processes import Instance, stop
from tests.fleet_processes import Served, by_province, query

FAST = ("--base-port", "0", "--scrape-interval", "1s", "--evaluation-interval", "1s", "--alert-for", "0s")
PROVINCES = ("beijing", "shandong")


def test_ministry_federates_provinces_and_sees_one_go_down(fsp, home, tmp_path):
    fsp("up", *PROVINCES)
    servers = {slug: Served(slug, home, tmp_path / f"{slug}.log") for slug in PROVINCES}
    try:
        for slug, server in servers.items():
            eventually(f"{slug} serving", server.ready, timeout=60)
        started = json.loads(fsp("monitoring", "up", *PROVINCES, *FAST, "--json").stdout)
        assert [(row["prometheus"], row["outcome"]) for row in started] == [
            ("beijing", "created"), ("shandong", "created"), ("expected", "created"), ("alertmanager", "created"),
            ("fleet", "created")]
        ministry = started[-1]["url"]
        again = json.loads(fsp("monitoring", "up", *PROVINCES, *FAST, "--json").stdout)
        assert {row["outcome"] for row in again} == {"unchanged"} and again[-1]["url"] == ministry

        for server in servers.values():
            for _ in range(3):
                assert httpx.get(f"{server.base}/api/v1/institutions", timeout=5).status_code == 200

        # the ministry sees each province's recorded series, labelled with that province
        rates = eventually("both provinces' request rates at the ministry", lambda: (
            rates if set(rates := by_province(ministry, "tenant:http_requests:rate5m")) == set(PROVINCES)
            and all(rates.values()) else None))
        assert set(rates) == set(PROVINCES)
        assert by_province(ministry, "tenant:up") == {"beijing": 1.0, "shandong": 1.0}
        versions = query(ministry, "tenant:build_info")
        assert {(s["metric"]["province"], s["metric"]["job"]) for s in versions} == {
            ("beijing", "federate"), ("shandong", "federate")}
        # a province's own scrape target is federated as is: it says which province it watches
        assert by_province(ministry, 'up{job="registry"}') == {"beijing": 1.0, "shandong": 1.0}

        servers["beijing"].stop()
        firing = eventually("FspProvinceDown firing for beijing", lambda: by_province(
            ministry, 'ALERTS{alertname="FspProvinceDown", alertstate="firing"}'))
        assert set(firing) == {"beijing"}

        rows = {row["tenant"]: row for row in json.loads(
            fsp("fleet", "status", "--prometheus-url", ministry, "--json").stdout)}
        assert len(rows) == 33  # every tenant of the catalog, provisioned or not
        assert rows["hebei"]["lifecycle"] is None and rows["hebei"]["health"] is None
        # provisioned with the provinces, never watched: missing, not absent
        assert rows["ministry"]["expected"] is True and rows["ministry"]["health"] == "missing"
        assert rows["beijing"]["health"] == "down" and rows["shandong"]["health"] == "up"
        assert rows["beijing"]["up"] is False and "FspProvinceDown" in rows["beijing"]["alerts"]
        assert rows["shandong"]["up"] is True and "FspProvinceDown" not in rows["shandong"]["alerts"]
        assert rows["shandong"]["version"] and rows["shandong"]["request_rate"] > 0
        assert rows["shandong"]["last_backup"] is None  # no backup yet: FspBackupStale says so too
        table = fsp("fleet", "status").stdout  # the ministry's address comes from $FSP_HOME
        assert ("33 tenants in the catalog, 3 provisioned here; expected 3: 1 up, 1 down, 1 missing, "
                "0 in maintenance; down or missing: ministry, beijing") in table

        # a province whose own Prometheus is gone is down too (the ministry's federation scrape fails)
        root = home / "monitoring" / "prometheus"
        assert stop(Instance("shandong", root / "shandong")) == "deleted"
        eventually("FspProvinceDown firing for shandong", lambda: "shandong" in by_province(
            ministry, 'ALERTS{alertname="FspProvinceDown", alertstate="firing", job="federate"}'))
        rows = {row["tenant"]: row for row in json.loads(
            fsp("fleet", "status", "--prometheus-url", ministry, "--json").stdout)}
        assert rows["shandong"]["up"] is False and "FspProvinceDown" in rows["shandong"]["alerts"]
        restarted = json.loads(fsp("monitoring", "up", *PROVINCES, *FAST, "--json").stdout)
        assert [row["outcome"] for row in restarted] == ["unchanged", "created", "unchanged", "unchanged", "unchanged"]
        eventually("shandong back at the ministry", lambda: by_province(ministry, 'up{job="federate"}').get(
            "shandong") == 1)

        # a changed configuration reloads the running processes in place
        pids = {name: Instance(name, root / name).pid() for name in ("beijing", "shandong", "fleet")}
        slower = [*FAST[:3], "2s", *FAST[4:]]
        reloaded = json.loads(fsp("monitoring", "up", *PROVINCES, *slower, "--json").stdout)
        assert {row["prometheus"]: row["outcome"] for row in reloaded} == {
            "beijing": "updated", "shandong": "updated", "expected": "unchanged", "alertmanager": "unchanged",
            "fleet": "updated"} and reloaded[-1]["url"] == ministry
        assert {name: Instance(name, root / name).pid() for name in pids} == pids
        eventually("the reloaded ministry Prometheus answering", lambda: query(ministry, "tenant:up"))
    finally:
        for server in servers.values():
            server.stop()
        stopped = json.loads(fsp("monitoring", "down", "--json").stdout)

    assert {row["prometheus"]: row["outcome"] for row in stopped} == {
        "beijing": "deleted", "shandong": "deleted", "fleet": "deleted", "expected": "deleted", "alertmanager": "deleted"}
    root = home / "monitoring" / "prometheus"
    assert all(Instance(name, root / name).pid() is None for name in ("beijing", "shandong", "fleet"))
    assert "cannot reach the ministry Prometheus" in fsp("fleet", "status", "--prometheus-url", ministry,
                                                         ok=False).stderr


def test_monitoring_up_refusals(fsp, home):
    assert "not a Prometheus duration" in fsp("monitoring", "up", "--scrape-interval", "soon", ok=False).stderr
    assert "no provisioned tenant" in fsp("monitoring", "up", ok=False).stderr
    assert "not provisioned" in fsp("monitoring", "up", "beijing", ok=False).stderr
    assert not (home / "monitoring" / "prometheus").exists()
    assert json.loads(fsp("monitoring", "down", "--json").stdout) == []


def test_serve_only_named_tenants_refusals(fsp):
    assert "unknown tenant" in fsp("serve", "--tenant", "atlantis", ok=False).stderr.lower()
    fsp("up", "beijing")
    fsp("down", "beijing")
    assert "beijing not provisioned or taken down" in fsp("serve", "--tenant", "beijing", ok=False).stderr


def test_fleet_status_without_a_ministry_prometheus_is_one_error_line(fsp):
    result = fsp("fleet", "status", "--prometheus-url", f"http://127.0.0.1:{free_port()}", ok=False)
    assert result.stderr.startswith("error: cannot reach the ministry Prometheus at http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1
