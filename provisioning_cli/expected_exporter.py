"""The expected tenants, as metrics the ministry Prometheus scrapes (job `expected`): read from the catalog and each
tenant's state.json at every scrape, so a lifecycle change or a maintenance window counts at the next scrape.

    fsp_tenant_expected{province, code, kind, state}              1 when the tenant must answer (active), else 0
    fsp_tenant_maintenance_until_timestamp_seconds{province}       while a maintenance window is open: its end

Tenants never provisioned here (or purged) have no series: nothing is expected of them. Run by `fsp monitoring up`
as `python -m provisioning_cli.expected_exporter --config.file=<dir>/expected.json` (home, catalog, port).
"""
import json
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

from provisioning_cli.lifecycle import Lifecycle, lifecycle_of
from provisioning_cli.maintenance import current_window
from provisioning_cli.targets.local_state import Home, read_json
from tenants import Catalog, load_catalog


class ExpectedTenants:
    """A prometheus_client collector over $FSP_HOME."""

    def __init__(self, home: Path, catalog: Catalog) -> None:
        self.home, self.catalog = Home(home), catalog

    def collect(self) -> Iterator[Metric]:
        expected = GaugeMetricFamily("fsp_tenant_expected", "Tenants provisioned here by lifecycle state; 1 when "
                                     "the tenant must answer (active)", labels=["province", "code", "kind", "state"])
        windows = GaugeMetricFamily("fsp_tenant_maintenance_until_timestamp_seconds",
                                    "End of the tenant's open maintenance window (Unix time)", labels=["province"])
        for spec in self.catalog.tenants:
            state = read_json(self.home.tenant(spec.slug).state)
            lifecycle = lifecycle_of(state)
            if lifecycle is None:
                continue
            expected.add_metric([spec.slug, spec.code, spec.kind, lifecycle.state.value],
                                1 if lifecycle.state == Lifecycle.active else 0)
            window = current_window(state)
            if window is not None:
                windows.add_metric([spec.slug], datetime.fromisoformat(window["until"]).timestamp())
        yield expected
        yield windows


def config_text(home: Path, catalog: Path | None, port: int) -> str:
    return json.dumps({"home": str(home.resolve()), "catalog": str(catalog.resolve()) if catalog else None,
                       "port": port}, indent=2) + "\n"


def main(argv: list[str]) -> None:
    [config_arg] = [arg for arg in argv if arg.startswith("--config.file=")]
    config = json.loads(Path(config_arg.partition("=")[2]).read_text())
    registry = CollectorRegistry()
    registry.register(ExpectedTenants(Path(config["home"]), load_catalog(config["catalog"])))
    start_http_server(config["port"], addr="127.0.0.1", registry=registry)
    while True:  # the server thread serves; this process lives until it is stopped
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
