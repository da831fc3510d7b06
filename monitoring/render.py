"""Prometheus configuration of the fleet, as files: one Prometheus per tenant and the ministry's, which federates them.

A tenant's Prometheus scrapes its registry (job `registry`), its exchange process where that runs apart (job
`exchange`, on Kubernetes) and records the `tenant:*` series; its external label
`province` is the tenant's slug (`beijing`; the ministry's own tenant is `ministry`), and its scrape target carries
the same `province` label, so every series says whose it is. The ministry Prometheus (`fleet`) federates only
`tenant:*` and `up` from each (job `federate`, `honor_labels: true`), evaluates the fleet alerts and records
`fsp:*` from them (equipment faults per province).
"""
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from tenants import TenantSpec

PACKAGE_DIR = Path(__file__).resolve().parent
RULES_DIR = PACKAGE_DIR / "prometheus" / "rules"
GRAFANA_DIR = PACKAGE_DIR / "grafana"
TENANT_RULES = "tenant.rules.yml"
FLEET_ALERTS = "fleet.alerts.yml"
FLEET_RULES = "fleet.rules.yml"  # recorded from the fleet's own alerts (faults per province)
DRIFT_RULES, DRIFT_ALERTS = "drift.rules.yml", "drift.alerts.yml"  # `fsp drift`: recorded by tenants, alerted by the fleet
FEDERATE_MATCH = ['{__name__=~"tenant:.*"}', "up"]
FLEET = "fleet"  # directory and name of the ministry Prometheus
FLEET_INTERVAL = "15s"


@dataclass(frozen=True)
class RenderOptions:
    """How often Prometheus scrapes and evaluates (None: a tenant's catalog entry says, the ministry's every 15 s);
    `alert_for` replaces every alert's `for` (trials and tests); `runbook_base` is where the runbooks are
    published (each alert's `runbook_url` is `<base>#<alert name>`)."""

    scrape_interval: str | None = None
    evaluation_interval: str | None = None
    alert_for: str | None = None
    runbook_base: str | None = None


@dataclass(frozen=True)
class RegistryTarget:
    """Where a tenant's Prometheus finds the registry: a static address and path, or a file_sd file; and, where
    the tenant runs one as a process of its own, its exchange process (a province's worker, the ministry's hub)."""

    address: str | None = None
    metrics_path: str = "/metrics"
    file_sd: Path | None = None
    exchange_address: str | None = None


def tenant_config(spec: TenantSpec, target: RegistryTarget, options: RenderOptions) -> dict:
    """A tenant's Prometheus: scrape its registry, record `tenant:*`, label everything with its province."""
    scrape = options.scrape_interval or f"{spec.monitoring.scrape_interval_seconds}s"
    evaluation = options.evaluation_interval or scrape
    job: dict = {"job_name": "registry", "scrape_interval": scrape}
    if target.file_sd is not None:
        # the file carries the address, the `province`/`code` labels and the metrics path; `fsp serve` keeps it current
        job["file_sd_configs"] = [{"files": [str(target.file_sd)], "refresh_interval": "30s"}]
    else:
        job["metrics_path"] = target.metrics_path
        job["static_configs"] = [{"targets": [target.address], "labels": {"province": spec.slug, "code": spec.code}}]
    jobs = [job]
    if target.exchange_address is not None:
        # the worker's own metrics: whether it stopped on a refusal that needs an operator, and why
        jobs.append({"job_name": "exchange", "scrape_interval": scrape, "static_configs": [
            {"targets": [target.exchange_address], "labels": {"province": spec.slug, "code": spec.code}}]})
    return {"global": {"scrape_interval": scrape, "evaluation_interval": evaluation,
                       "external_labels": {"province": spec.slug}},
            "rule_files": [f"rules/{TENANT_RULES}", f"rules/{DRIFT_RULES}"],
            "scrape_configs": jobs}


@dataclass(frozen=True)
class FleetExtras:
    """What the ministry Prometheus reaches besides the tenants' Prometheus (host:port each): the exporter of the
    expected tenants (`fsp_tenant_expected`, from the catalog and each tenant's lifecycle) and Alertmanager."""

    expected: str | None = None
    alertmanager: str | None = None


def fleet_config(sources: Iterable[tuple[TenantSpec, str]], options: RenderOptions,
                 extras: FleetExtras = FleetExtras()) -> dict:
    """The ministry Prometheus: federate `tenant:*` and `up` from each tenant's Prometheus (host:port), alert."""
    static = [{"targets": [address], "labels": {"province": spec.slug, "code": spec.code}} for spec, address in sources]
    scrape = options.scrape_interval or FLEET_INTERVAL
    jobs = [{"job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
             "params": {"match[]": FEDERATE_MATCH}, "scrape_interval": scrape, "static_configs": static}]
    if extras.expected is not None:
        # which tenants must answer: without it a tenant never scraped is an absence no alert can see
        jobs.append({"job_name": "expected", "honor_labels": True, "scrape_interval": scrape,
                     "static_configs": [{"targets": [extras.expected]}]})
    config = {"global": {"scrape_interval": scrape, "evaluation_interval": options.evaluation_interval or scrape},
              "rule_files": [f"rules/{FLEET_ALERTS}", f"rules/{FLEET_RULES}", f"rules/{DRIFT_ALERTS}"],
              "scrape_configs": jobs}
    if extras.alertmanager is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [extras.alertmanager]}]}]}
    return config


def rules_text(name: str, options: RenderOptions) -> str:
    """A rule file as shipped, or with alerts' `for` and runbook URLs replaced as the options say."""
    text = (RULES_DIR / name).read_text()
    if options.alert_for is None and options.runbook_base is None:
        return text
    document = yaml.safe_load(text)
    for group in document["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            if options.alert_for is not None:
                rule["for"] = options.alert_for
            if options.runbook_base is not None:
                rule["annotations"]["runbook_url"] = f"{options.runbook_base}#{rule['alert'].lower()}"
    return dump(document)


def dump(document: Mapping) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=120)


def tenant_files(spec: TenantSpec, target: RegistryTarget, options: RenderOptions) -> dict[str, str]:
    """The files of one tenant's Prometheus directory, by relative path."""
    return {"prometheus.yml": dump(tenant_config(spec, target, options)),
            f"rules/{TENANT_RULES}": rules_text(TENANT_RULES, options),
            f"rules/{DRIFT_RULES}": rules_text(DRIFT_RULES, options)}


def fleet_files(sources: Iterable[tuple[TenantSpec, str]], options: RenderOptions,
                extras: FleetExtras = FleetExtras()) -> dict[str, str]:
    """The files of the ministry Prometheus directory, by relative path."""
    return {"prometheus.yml": dump(fleet_config(sources, options, extras)),
            f"rules/{FLEET_ALERTS}": rules_text(FLEET_ALERTS, options),
            f"rules/{FLEET_RULES}": rules_text(FLEET_RULES, options),
            f"rules/{DRIFT_ALERTS}": rules_text(DRIFT_ALERTS, options)}


def dashboards() -> dict[str, str]:
    """Grafana dashboards (JSON model), by file name: the fleet, and one province (variable `province`)."""
    return {path.name: path.read_text() for path in sorted(GRAFANA_DIR.glob("*.json"))}


def render_fleet(specs: Iterable[TenantSpec], *, registry: Callable[[TenantSpec], RegistryTarget],
                 prometheus: Callable[[TenantSpec], str], options: RenderOptions) -> dict[str, str]:
    """Every file of the fleet's monitoring, by relative path: `tenants/<slug>/`, `fleet/`, `grafana/`."""
    specs = list(specs)
    files: dict[str, str] = {}
    for spec in specs:
        files.update({f"tenants/{spec.slug}/{name}": text
                      for name, text in tenant_files(spec, registry(spec), options).items()})
    files.update({f"{FLEET}/{name}": text
                  for name, text in fleet_files([(spec, prometheus(spec)) for spec in specs], options).items()})
    files.update({f"grafana/{name}": text for name, text in dashboards().items()})
    return files


def write_files(root: Path, files: Mapping[str, str]) -> dict[str, str]:
    """Write each file under `root` only when its content changes; outcome per relative path."""
    outcomes = {}
    for relative, text in files.items():
        path = root / relative
        data = text.encode()
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = None
        if current == data:
            outcomes[relative] = "unchanged"
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # Prometheus may reload at any time: it must never read half a file
        outcomes[relative] = "created" if current is None else "updated"
    return outcomes
