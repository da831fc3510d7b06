"""`fsp monitoring`: render the fleet's Prometheus configuration, and run it on this machine (local target)."""
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from monitoring.alerting import AlertingOptions, alertmanager_text
from monitoring.processes import Instance, MonitoringError, ensure_alertmanager, ensure_process, ensure_running, stop
from monitoring.render import (
    FLEET,
    FleetExtras,
    RegistryTarget,
    RenderOptions,
    fleet_files,
    render_fleet,
    tenant_files,
    write_files,
)
from provisioning_cli import expected_exporter, maintenance
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import fail, open_catalog, print_json, print_table, resolve_tenant
from provisioning_cli.targets.local import LocalTarget
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True, help="Prometheus per tenant and the ministry Prometheus federating them.")

DEFAULT_BASE_PORT = 9090
SUPPORT_OFFSET = 100  # Alertmanager on base+100, the expected-tenants exporter on base+101: past every tenant's port
ALERTMANAGER, EXPECTED = maintenance.ALERTMANAGER, "expected"
ScrapeOpt = Annotated[str | None, typer.Option(
    "--scrape-interval", metavar="DURATION",
    help="How often every Prometheus scrapes (e.g. 15s); default: each tenant's catalog entry, 15s for the ministry.")]
EvaluationOpt = Annotated[str | None, typer.Option(
    "--evaluation-interval", metavar="DURATION",
    help="How often recording and alert rules run; default: the scrape interval.")]
RunbookOpt = Annotated[str | None, typer.Option(
    "--runbook-base", metavar="URL",
    help="Where monitoring/RUNBOOK.md is published; alerts link to URL#<alert name>. Default: as shipped.")]
WebhookOpt = Annotated[str | None, typer.Option(
    "--webhook-url", envvar="FSP_ALERT_WEBHOOK_URL", metavar="URL",
    help="Where Alertmanager posts the fleet's notifications (its webhook receiver); default: nowhere.")]
GroupWaitOpt = Annotated[str | None, typer.Option(
    "--group-wait", metavar="DURATION",
    help="How long Alertmanager gathers a province's alerts before notifying (e.g. 1s for a trial); default 30s.")]
AlertForOpt = Annotated[str | None, typer.Option(
    "--alert-for", metavar="DURATION",
    help="Replace every alert's `for` (e.g. 0s for a trial run); default: as shipped.")]


def _options(scrape: str | None, evaluation: str | None, alert_for: str | None,
             runbook_base: str | None) -> RenderOptions:
    for option, value in (("--scrape-interval", scrape), ("--evaluation-interval", evaluation),
                          ("--alert-for", alert_for)):
        if value is not None and not _is_duration(value):
            fail(f"{option} {value!r} is not a Prometheus duration such as 15s, 1m or 0s")
    if runbook_base is not None and not re.fullmatch(r"https?://\S+", runbook_base):
        fail(f"--runbook-base {runbook_base!r} is not an http(s) URL")
    return RenderOptions(scrape_interval=scrape, evaluation_interval=evaluation, alert_for=alert_for,
                         runbook_base=runbook_base)


def _is_duration(value: str) -> bool:
    return re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", value) is not None


@app.command()
def render(
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Directory to write into (default: $FSP_HOME/monitoring/rendered).")] = None,
    registry_url: Annotated[str, typer.Option(
        "--registry-url", metavar="TEMPLATE",
        help="Each tenant's registry metrics URL; {slug} and {code} are filled in.")] = (
        "http://127.0.0.1:8000/{slug}/metrics"),
    prometheus_address: Annotated[str, typer.Option(
        "--prometheus-address", metavar="TEMPLATE",
        help="Each tenant's Prometheus as host:port for the ministry to federate; {slug}, {code} and {port} "
             "(9091 + the tenant's place in the catalog) are filled in.")] = "127.0.0.1:{port}",
    scrape_interval: ScrapeOpt = None,
    evaluation_interval: EvaluationOpt = None,
    alert_for: AlertForOpt = None,
    runbook_base: RunbookOpt = None,
    webhook_url: WebhookOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Write every tenant's Prometheus configuration, the ministry's, the rules, Alertmanager's configuration and the
    Grafana dashboards."""
    out = out or home / "monitoring" / "rendered"
    options = _options(scrape_interval, evaluation_interval, alert_for, runbook_base)
    alerting = _alerting(webhook_url, None)
    specs = list(open_catalog(catalog).tenants)
    ports = {spec.slug: DEFAULT_BASE_PORT + 1 + index for index, spec in enumerate(specs)}

    def registry(spec: TenantSpec) -> RegistryTarget:
        url = _fill(registry_url, spec, ports)
        scheme, _, rest = url.partition("://")
        address, _, path = rest.partition("/")
        if scheme != "http" or not address:
            fail(f"--registry-url must be an http:// URL, got {url!r}")
        return RegistryTarget(address=address, metrics_path=f"/{path}")

    with boundary():
        files = render_fleet(specs, registry=registry, prometheus=lambda s: _fill(prometheus_address, s, ports),
                             options=options)
        files[f"{ALERTMANAGER}/alertmanager.yml"] = alertmanager_text(alerting)
        outcomes = write_files(out, files)
    rows = [{"file": str(out / name), "outcome": outcome} for name, outcome in outcomes.items()]
    if json_:
        print_json(rows)
    else:
        changed = [row for row in rows if row["outcome"] != "unchanged"]
        print_table(["file", "outcome"], ([row["file"], row["outcome"]] for row in changed))
        typer.echo(f"{len(rows)} files for {len(specs)} tenants and the ministry Prometheus in {out} "
                   f"({len(rows) - len(changed)} unchanged)")


def _fill(template: str, spec: TenantSpec, ports: dict[str, int]) -> str:
    try:
        return template.format(slug=spec.slug, code=spec.code, port=ports[spec.slug])
    except (KeyError, IndexError, ValueError) as err:
        fail(f"bad template {template!r}: {err}; use {{slug}}, {{code}} or {{port}}")


def _instances_root(local: LocalTarget) -> Path:
    return local.home.root / "monitoring" / "prometheus"


def _port(instance: Instance, base_port: int, offset: int) -> int:
    recorded = instance.recorded_port()
    if recorded:
        return recorded  # a restart keeps its address, so the ministry's federation targets stay right
    if base_port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    return base_port + offset


@app.command()
def up(
    tenants: TenantsArg = None,
    base_port: Annotated[int, typer.Option(
        "--base-port", min=0, max=65000,
        help="The ministry Prometheus listens here, tenant N of the catalog on base+1+N; 0 picks free ports. "
             "A running instance keeps its port.")] = DEFAULT_BASE_PORT,
    scrape_interval: ScrapeOpt = None,
    evaluation_interval: EvaluationOpt = None,
    alert_for: AlertForOpt = None,
    runbook_base: RunbookOpt = None,
    webhook_url: WebhookOpt = None,
    group_wait: GroupWaitOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Run a Prometheus per provisioned tenant, the ministry Prometheus federating them, the exporter of the
    expected tenants it alerts on and Alertmanager it notifies, on 127.0.0.1. Without TENANT: every provisioned
    tenant."""
    options = _options(scrape_interval, evaluation_interval, alert_for, runbook_base)
    alerting = _alerting(webhook_url, group_wait)
    local = open_target(home, catalog)
    wanted = [resolve_tenant(local.catalog, ref) for ref in tenants or []]
    for spec in wanted:
        if not local.is_provisioned(spec):
            fail(f"{spec.slug} is not provisioned here: run `fsp up {spec.slug}` first")
    specs = [spec for spec in local.catalog.tenants
             if (spec in wanted if wanted else local.is_provisioned(spec))]
    if not specs:
        fail("no provisioned tenant to watch: provision tenants first, e.g. `fsp up --pilots`")
    root = _instances_root(local)
    order = {spec.slug: index for index, spec in enumerate(local.catalog.tenants)}
    results: list[dict] = []
    with boundary(), _monitoring_errors(), maintenance.errors(), local.home.lock():
        sources = []
        for spec in specs:
            instance = Instance(spec.slug, root / spec.slug)
            port = _port(instance, base_port, 1 + order[spec.slug])
            target = RegistryTarget(file_sd=local.home.scrape_targets / f"{spec.slug}.json")
            outcome = ensure_running(instance, tenant_files(spec, target, options), port,
                                     retention=f"{spec.monitoring.retention_days}d")
            results.append({"prometheus": spec.slug, "outcome": outcome, "url": f"http://127.0.0.1:{port}"})
            sources.append((spec, f"127.0.0.1:{port}"))
        for stale in _known(root) - {spec.slug for spec in specs} - {FLEET}:
            results.append({"prometheus": stale, "outcome": stop(Instance(stale, root / stale)), "url": None})
        expected, alertmanager = _expected_exporter(local, base_port, catalog), _alertmanager(local, base_port, alerting)
        results += [expected, alertmanager]
        fleet = Instance(FLEET, root / FLEET)
        port = _port(fleet, base_port, 0)
        retention = f"{local.catalog.ministry.monitoring.retention_days}d"
        extras = FleetExtras(expected=expected["url"].removeprefix("http://"),
                             alertmanager=alertmanager["url"].removeprefix("http://"))
        results.append({"prometheus": FLEET, "url": f"http://127.0.0.1:{port}", "outcome": ensure_running(
            fleet, fleet_files(sources, options, extras), port, retention=retention)})
        # windows opened while no Alertmanager ran get their silence now
        maintenance.sync_silences(local, alertmanager["url"])
    _print(results, json_)


def _alerting(webhook_url: str | None, group_wait: str | None) -> AlertingOptions:
    if webhook_url is not None and not re.fullmatch(r"https?://\S+", webhook_url):
        fail(f"--webhook-url {webhook_url!r} is not an http(s) URL")
    if group_wait is not None and not _is_duration(group_wait):
        fail(f"--group-wait {group_wait!r} is not a duration such as 30s or 1m")
    return AlertingOptions(webhook_url=webhook_url, group_wait=group_wait)


def _support_root(local: LocalTarget) -> Path:
    return local.home.root / "monitoring"


def _alertmanager(local: LocalTarget, base_port: int, alerting: AlertingOptions) -> dict:
    """The fleet's Alertmanager (port base+100 by default), configured from monitoring/alertmanager/."""
    instance = Instance(ALERTMANAGER, _support_root(local) / ALERTMANAGER, program=ALERTMANAGER)
    port = _port(instance, base_port, SUPPORT_OFFSET)
    outcome = ensure_alertmanager(instance, alertmanager_text(alerting), port)
    return {"prometheus": ALERTMANAGER, "outcome": outcome, "url": f"http://127.0.0.1:{port}"}


def _expected_exporter(local: LocalTarget, base_port: int, catalog: Path | None) -> dict:
    """The exporter of the expected tenants (port base+101 by default), reading $FSP_HOME at every scrape."""
    instance = Instance(EXPECTED, _support_root(local) / EXPECTED, program=EXPECTED)
    port = _port(instance, base_port, SUPPORT_OFFSET + 1)
    command = [sys.executable, "-m", expected_exporter.__name__, f"--config.file={instance.config}"]
    outcome = ensure_process(instance, expected_exporter.config_text(local.home.root, catalog, port), port, command,
                             ready="/metrics")
    return {"prometheus": EXPECTED, "outcome": outcome, "url": f"http://127.0.0.1:{port}"}


@app.command()
def down(json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME, catalog: CatalogOpt = None) -> None:
    """Stop every process `fsp monitoring up` started here; their data stays under $FSP_HOME/monitoring/."""
    local = open_target(home, catalog)
    root = _instances_root(local)
    with boundary(), _monitoring_errors(), local.home.lock():
        results = [{"prometheus": name, "outcome": stop(Instance(name, root / name)), "url": None}
                   for name in sorted(_known(root))]
        for name in (EXPECTED, ALERTMANAGER):
            instance = Instance(name, _support_root(local) / name, program=name)
            if instance.root.is_dir():
                results.append({"prometheus": name, "outcome": stop(instance), "url": None})
    _print(results, json_)


def _known(root: Path) -> set[str]:
    return {path.name for path in root.iterdir() if path.is_dir()} if root.is_dir() else set()


def _print(results: list[dict], json_: bool) -> None:
    if json_:
        print_json(results)
    else:
        print_table(["prometheus", "outcome", "url"], ([r["prometheus"], r["outcome"], r["url"]] for r in results))


@contextmanager
def _monitoring_errors() -> Iterator[None]:
    """A Prometheus that cannot be configured, started or stopped is one `error:` line and exit 1."""
    try:
        yield
    except MonitoringError as err:
        fail(str(err))
