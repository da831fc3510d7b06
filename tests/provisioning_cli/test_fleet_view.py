"""What the ministry expects of each tenant, from its state: the exporter's series and `fsp fleet status`'s health
for every lifecycle state, whatever Prometheus holds (its rows given here as `fleet_status` returns them)."""
from datetime import UTC, datetime, timedelta

import pytest

from provisioning_cli import maintenance
from provisioning_cli.expected_exporter import ExpectedTenants
from provisioning_cli.fleet_view import fleet_rows, summary
from provisioning_cli.lifecycle import Lifecycle, set_lifecycle
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json, write_state
from tenants import load_catalog


def seen(slug: str, up: bool = True, alerts: tuple[str, ...] = ()) -> dict:
    return {"tenant": slug, "up": up, "scraped": True, "version": "1.0", "request_rate": 0.5, "error_ratio": None,
            "p95_seconds": None, "outbox_pending": 0, "outbox_lag_seconds": 12.0, "last_backup": None,
            "alerts": list(alerts)}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """ministry, beijing, tianjin, hebei provisioned; tianjin then suspended, hebei's last up failed, shanxi
    offboarded (its tombstone only), beijing in a maintenance window, the rest of the catalog never provisioned."""
    from typer.testing import CliRunner

    from provisioning_cli.main import app

    home = tmp_path_factory.mktemp("fleet") / "fsp-home"
    result = CliRunner().invoke(app, ["up", "beijing", "tianjin", "hebei", "--home", str(home)])
    assert result.exit_code == 0, result.stdout + result.stderr
    local = LocalTarget(home, load_catalog())
    for slug, state_, reason in (("tianjin", Lifecycle.suspended, "欠费"), ("hebei", Lifecycle.failed, "disk full")):
        path = local.home.tenant(slug).state
        state = read_json(path)
        set_lifecycle(state, state_, reason)
        write_state(path, state)
    tombstone = {}
    set_lifecycle(tombstone, Lifecycle.offboarded, "merged")
    local.home.tenant("shanxi").root.mkdir(parents=True)
    write_state(local.home.tenant("shanxi").state, tombstone)
    maintenance.start(local, local.catalog.resolve("beijing"), reason="升级", alertmanager=None,
                      until=datetime.now(UTC) + timedelta(hours=1))
    return local


def test_the_exporter_expects_only_active_tenants_and_names_every_state(fleet):
    families = {family.name: family for family in ExpectedTenants(fleet.home.root, fleet.catalog).collect()}
    expected = {s.labels["province"]: (s.labels["state"], s.value) for s in families["fsp_tenant_expected"].samples}
    assert expected == {"ministry": ("active", 1), "beijing": ("active", 1), "tianjin": ("suspended", 0),
                        "hebei": ("failed", 0), "shanxi": ("offboarded", 0)}
    [window] = families["fsp_tenant_maintenance_until_timestamp_seconds"].samples
    assert window.labels == {"province": "beijing"} and window.value > datetime.now(UTC).timestamp()


def test_every_catalog_tenant_is_a_row_and_health_comes_from_the_state_first(fleet):
    # Prometheus still says beijing is up (its last scrapes): the window wins; the ministry has no series at all
    rows = {row["tenant"]: row for row in fleet_rows(fleet, [seen("beijing"), seen("tianjin", up=False)])}

    assert len(rows) == 33
    assert {slug: (rows[slug]["lifecycle"] or {}).get("state") for slug in ("beijing", "tianjin", "hebei",
                                                                             "shanxi", "jilin")} == {
        "beijing": "active", "tianjin": "suspended", "hebei": "failed", "shanxi": "offboarded", "jilin": None}
    assert {slug: rows[slug]["health"] for slug in ("ministry", "beijing", "tianjin", "hebei", "shanxi", "jilin")} == {
        "ministry": "missing", "beijing": "maintenance", "tianjin": "down", "hebei": None, "shanxi": None,
        "jilin": None}
    assert [row["tenant"] for row in rows.values() if row["expected"]] == ["ministry", "beijing"]
    assert rows["beijing"]["maintenance"]["shown"].startswith("维护中 until ")
    assert rows["beijing"]["outbox_lag_seconds"] == 12.0 and rows["hebei"]["lifecycle"]["reason"] == "disk full"
    assert summary(list(rows.values())) == (
        "33 tenants in the catalog, 5 provisioned here; expected 2: 0 up, 0 down, 1 missing, 1 in maintenance; "
        "not expected: 1 failed, 1 offboarded, 1 suspended; down or missing: ministry")


def test_a_tenant_with_only_alerts_is_missing_and_an_unreadable_prometheus_is_unknown(fleet):
    alerts_only = {**seen("ministry", up=False, alerts=("FspTenantMissing",)), "scraped": False}
    rows = {row["tenant"]: row for row in fleet_rows(fleet, [alerts_only])}
    assert rows["ministry"]["health"] == "missing" and rows["ministry"]["alerts"] == ["FspTenantMissing"]

    rows = {row["tenant"]: row for row in fleet_rows(fleet, None)}
    assert rows["ministry"]["health"] == "unknown" and rows["beijing"]["health"] == "maintenance"


def test_the_last_baseline_check_is_shown(fleet):
    path = fleet.home.tenant("ministry").baseline
    path.write_text('{"tenant": "ministry", "checked_at": "2026-11-30T08:00:00+00:00", "compliant": false, '
                    '"failed_mandatory": ["8.1.4.1"], "counts": {}}')
    try:
        rows = {row["tenant"]: row for row in fleet_rows(fleet, [])}
    finally:
        path.unlink()
    assert rows["ministry"]["baseline"] == {"compliant": False, "checked_at": "2026-11-30T08:00:00+00:00",
                                            "failed_mandatory": ["8.1.4.1"]}
    assert rows["beijing"]["baseline"] is None
