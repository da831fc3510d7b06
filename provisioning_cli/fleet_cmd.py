"""`fsp fleet status`: every tenant of the catalog, with what is expected of it and what the ministry Prometheus
sees of it, for SREs, and the plan's KPIs per province
from the ministry's national database when the ministry is provisioned here."""
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from monitoring.fleet import PrometheusUnreachable, fleet_status
from monitoring.processes import Instance
from monitoring.render import FLEET
from provisioning_cli.common import boundary, open_target
from provisioning_cli.fleet_view import fleet_rows, summary
from provisioning_cli.kpi_table import ministry_kpis, print_kpis
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import fail, print_json, print_table

app = typer.Typer(no_args_is_help=True, help="The fleet of tenants, read from the ministry Prometheus.")


@app.command()
def status(
    prometheus_url: Annotated[str | None, typer.Option(
        "--prometheus-url", envvar="FSP_PROMETHEUS_URL", metavar="URL",
        help="The ministry Prometheus (default: the one `fsp monitoring up` runs, else http://127.0.0.1:9090).",
    )] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Every tenant of the catalog: lifecycle state, health (up, down, missing, maintenance; from its state at once,
    else from the ministry Prometheus), version, request rate, 5xx ratio, exchange lag, last backup, baseline,
    firing alerts; then the plan's KPIs per province for this year (China time), each against its target: pass,
    BEHIND or unknown. In --json each tenant's row carries its KPIs (`kpis`). An unreachable ministry Prometheus
    still shows the rows (health `unknown`), then exits 1."""
    url = prometheus_url or Instance(FLEET, home / "monitoring" / "prometheus" / FLEET).url() or "http://127.0.0.1:9090"
    local = open_target(home, catalog)
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    with boundary():
        kpi_rows = ministry_kpis(local, year=year, now=datetime.now(UTC))
    unreachable = None
    try:
        observed = fleet_status(url)
    except PrometheusUnreachable as err:
        observed, unreachable = None, err
    rows = fleet_rows(local, observed)
    if json_:
        print_json([{**row, "kpis": [k for k in kpi_rows or () if k["province"] == row["tenant"]]} for row in rows])
    else:
        print_table(["tenant", "lifecycle", "health", "version", "req/s", "5xx", "p95", "exchange lag", "last backup",
                     "baseline", "firing alerts"],
                    ([row["tenant"], _lifecycle(row), _health(row), row["version"],
                      _number(row["request_rate"], "{:.2f}"), _number(row["error_ratio"], "{:.1%}"),
                      _number(row["p95_seconds"], "{:.3f}s"), _number(row["outbox_lag_seconds"], "{:.0f}s"),
                      row["last_backup"] or ("never" if row["lifecycle"] else ""), _baseline(row),
                      ", ".join(row["alerts"])] for row in rows))
        typer.echo(summary(rows))
        if kpi_rows:
            print_kpis(kpi_rows, year=year)  # the national figures do not depend on monitoring
        else:
            typer.echo("plan KPIs: " + ("the ministry is not provisioned here (`fsp up ministry`)" if kpi_rows is None
                                        else "no province has shipped to the ministry yet"))
    if unreachable is not None:
        fail(str(unreachable))


def _lifecycle(row: dict) -> str:
    lifecycle = row["lifecycle"]
    return "not provisioned" if lifecycle is None else f"{lifecycle['state_zh']} {lifecycle['state']}"


def _health(row: dict) -> str:
    if row["health"] == "maintenance":
        return row["maintenance"]["shown"]
    return {"up": "up", "down": "DOWN", "missing": "MISSING", "unknown": "unknown", None: "-"}[row["health"]]


def _baseline(row: dict) -> str:
    baseline = row["baseline"]
    if baseline is None:
        return "never checked" if row["lifecycle"] else ""
    day = (baseline["checked_at"] or "")[:10]
    return f"ok {day}" if baseline["compliant"] else f"FAILED {len(baseline['failed_mandatory'])} {day}"


def _number(value: float | None, form: str) -> str:
    return "" if value is None else form.format(value)
