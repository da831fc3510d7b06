"""Expected tenants, Alertmanager and maintenance windows for real: `fsp monitoring up` runs Prometheus, the
exporter of the expected tenants and Debian's Alertmanager on loopback; a local webhook records what it notifies.

beijing is served and watched; shandong is provisioned and active but nobody watches it (no Prometheus of its
own): before, it was invisible, now it alerts. tianjin is taken down with `fsp down --reason`: its alert fires in
Prometheus but its maintenance window's silence keeps Alertmanager quiet until the window is ended.
"""
import json
import time

import httpx

from loopback import eventually
from tests.fleet_processes import Served, Webhook, by_province

FAST = ("--base-port", "0", "--scrape-interval", "1s", "--evaluation-interval", "1s", "--alert-for", "0s",
        "--group-wait", "1s")


def test_an_unscraped_tenant_notifies_by_province_and_severity_and_one_in_maintenance_does_not(fsp, home, tmp_path):
    fsp("up", "beijing", "shandong", "tianjin")
    down = json.loads(fsp("down", "tianjin", "--reason", "数据库迁移", "--for", "2h", "--json").stdout)
    assert ("tianjin", "maintenance", "created") in {(r["tenant"], r["resource"], r["outcome"]) for r in down}
    # no Alertmanager runs yet: the window waits for its silence
    [window] = json.loads(fsp("maintenance", "list", "--json").stdout)
    assert (window["tenant"], window["reason"], window["silenced"]) == ("tianjin", "数据库迁移", False)

    webhook = Webhook()
    served = Served("beijing", home, tmp_path / "serve.log")
    try:
        eventually("beijing serving", served.ready, timeout=60)
        started = {row["prometheus"]: row["url"] for row in json.loads(
            fsp("monitoring", "up", "beijing", "tianjin", *FAST, "--webhook-url", webhook.url, "--json").stdout)}
        ministry, alertmanager = started["fleet"], started["alertmanager"]
        assert json.loads(fsp("maintenance", "list", "--json").stdout)[0]["silenced"] is True  # silenced on up

        # every provisioned active tenant is expected, from the catalog and its state
        expected = eventually("the expected tenants at the ministry", lambda: by_province(
            ministry, 'fsp_tenant_expected{state="active"}'))
        assert expected == {"ministry": 1.0, "beijing": 1.0, "shandong": 1.0, "tianjin": 1.0}

        # shandong (and the ministry, also unwatched) arrive as one notification per province and severity
        groups = eventually("FspTenantMissing notified for shandong", lambda: (
            found if ("shandong", "critical") in (found := webhook.groups("FspTenantMissing")) else None))
        notified = groups[("shandong", "critical")]
        assert notified["groupLabels"] == {"province": "shandong", "severity": "critical"}
        assert {a["labels"]["province"] for a in notified["alerts"]} == {"shandong"}
        assert ("ministry", "critical") in groups

        # tianjin is missing too (taken down: no scrape target), so its alert fires, but it notifies nobody
        firing = by_province(ministry, 'ALERTS{alertname="FspTenantMissing", alertstate="firing"}')
        assert set(firing) == {"ministry", "shandong", "tianjin"}  # beijing is up
        silenced = eventually("tianjin's alert suppressed by its silence", lambda: [
            a for a in httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
            if a["labels"]["province"] == "tianjin" and a["status"]["state"] == "suppressed"])
        assert silenced[0]["status"]["silencedBy"]
        time.sleep(3)  # several group intervals: had it been notified, it would be here
        assert not [body for body in webhook.received if body["groupLabels"].get("province") == "tianjin"]

        # the fleet view shows all of it, from the state at once
        rows = {row["tenant"]: row for row in json.loads(fsp("fleet", "status", "--json").stdout)}
        assert len(rows) == 33
        assert {slug: rows[slug]["health"] for slug in ("ministry", "beijing", "shandong", "tianjin", "hebei")} == {
            "ministry": "missing", "beijing": "up", "shandong": "missing", "tianjin": "maintenance", "hebei": None}
        assert rows["tianjin"]["maintenance"]["reason"] == "数据库迁移"
        assert rows["tianjin"]["maintenance"]["shown"].startswith("维护中 until ")
        assert rows["shandong"]["lifecycle"]["state"] == "active" and "FspTenantMissing" in rows["shandong"]["alerts"]
        table = fsp("fleet", "status").stdout
        assert ("33 tenants in the catalog, 4 provisioned here; expected 4: 1 up, 0 down, 2 missing, "
                "1 in maintenance; down or missing: ministry, shandong") in table

        # a planned down shows at once, not after its last scrapes go stale; with Alertmanager running it is silenced
        fsp("down", "beijing", "--reason", "换证书", "--for", "30m")
        rows = {row["tenant"]: row for row in json.loads(fsp("fleet", "status", "--json").stdout)}
        assert rows["beijing"]["health"] == "maintenance" and rows["beijing"]["maintenance"]["reason"] == "换证书"
        assert {w["tenant"]: w["silenced"] for w in json.loads(fsp("maintenance", "list", "--json").stdout)} == {
            "beijing": True, "tianjin": True}

        # the window ends early: tianjin, still down, notifies now
        fsp("maintenance", "end", "tianjin")
        assert [w["tenant"] for w in json.loads(fsp("maintenance", "list", "--json").stdout)] == ["beijing"]
        eventually("FspTenantMissing notified for tianjin once its window ended", lambda: (
            "tianjin", "critical") in webhook.groups("FspTenantMissing"))
        rows = {row["tenant"]: row for row in json.loads(fsp("fleet", "status", "--json").stdout)}
        assert rows["tianjin"]["health"] == "down" and rows["tianjin"]["maintenance"] is None
        eventually("only beijing's window left at the ministry", lambda: set(by_province(
            ministry, "fsp_tenant_maintenance_until_timestamp_seconds")) == {"beijing"})
    finally:
        served.stop()
        fsp("monitoring", "down")
        webhook.close()
