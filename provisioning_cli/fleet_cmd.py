"""`fsp fleet status`: every tenant as the ministry Prometheus sees it, for SREs, and the plan's KPIs per province
from the ministry's national database when the ministry is provisioned here."""
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from monitoring.fleet import PrometheusUnreachable, fleet_status
from monitoring.processes import Instance
from monitoring.render import FLEET
from provisioning_cli.common import boundary, open_target
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
    """One row per tenant: up, version, request rate, 5xx ratio, p95 latency, exchange lag, last backup, alerts;
    then the plan's KPIs per province for this year (China time), each against its target: pass, BEHIND or
    unknown. In --json each tenant's row carries its KPIs (`kpis`)."""
    url = prometheus_url or Instance(FLEET, home / "monitoring" / "prometheus" / FLEET).url() or "http://127.0.0.1:9090"
    local = open_target(home, catalog)
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    with boundary():
        kpi_rows = ministry_kpis(local, year=year, now=datetime.now(UTC))
    try:
        rows = fleet_status(url)
    except PrometheusUnreachable as err:
        if kpi_rows and not json_:
            print_kpis(kpi_rows, year=year)  # the national figures do not depend on monitoring
        fail(str(err))
    order = {spec.slug: index for index, spec in enumerate(local.catalog.tenants)}
    rows.sort(key=lambda row: (order.get(row["tenant"], len(order)), row["tenant"]))
    if json_:
        print_json([{**row, "kpis": [k for k in kpi_rows or () if k["province"] == row["tenant"]]} for row in rows])
        return
    print_table(["tenant", "up", "version", "req/s", "5xx", "p95", "outbox lag", "last backup", "firing alerts"],
                ([row["tenant"], "up" if row["up"] else "DOWN", row["version"], _number(row["request_rate"], "{:.2f}"),
                  _number(row["error_ratio"], "{:.1%}"), _number(row["p95_seconds"], "{:.3f}s"),
                  _number(row["outbox_lag_seconds"], "{:.0f}s"), row["last_backup"] or "never",
                  ", ".join(row["alerts"])] for row in rows))
    down = [row["tenant"] for row in rows if not row["up"]]
    typer.echo(f"{len(rows) - len(down)} of {len(rows)} tenants up" + (f"; down: {', '.join(down)}" if down else ""))
    if kpi_rows:
        print_kpis(kpi_rows, year=year)
    else:
        typer.echo("plan KPIs: " + ("the ministry is not provisioned here (`fsp up ministry`)" if kpi_rows is None
                                    else "no province has shipped to the ministry yet"))


def _number(value: float | None, form: str) -> str:
    return "" if value is None else form.format(value)
