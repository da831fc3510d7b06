"""`fsp serve`: one process serving the ministry and every provisioned tenant, each under `/<slug>`."""
from typing import Annotated

import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import fail, print_json, resolve_tenant


def loopback(host: str) -> str:
    """Where this machine reaches a server listening on `host` (any address: the loopback one)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if ":" in host:
        return "[::1]" if host == "::" else f"[{host}]"
    return host


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    tenants: Annotated[list[str] | None, typer.Option(
        "--tenant", metavar="TENANT", show_default=False,
        help="Serve only this tenant (slug or code; repeatable); its scrape target then names this address.")] = None,
    sweep_interval: Annotated[float, typer.Option(
        "--sweep-interval", min=0, metavar="SECONDS",
        help="Run each province's sweeps (expired booking holds, overdue complaints, its own figures) this often, "
             "±10 %; 0: never.")]
    = 300.0,
    drift_interval: Annotated[float, typer.Option(
        "--drift-interval", min=0, metavar="SECONDS",
        help="Check the fleet for drift (`fsp drift --all`) this often, ±10 %, for the ministry's /metrics; 0: never.")]
    = 3600.0,
    ship_interval: Annotated[float, typer.Option(
        "--ship-interval", min=0, metavar="SECONDS",
        help="Ship each province's outbox to the ministry and deliver to its departments this often, ±10 % "
             "(backoff with jitter while the other side does not answer); 0: never.")] = 30.0,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Serve every provisioned tenant that is not down, or only those named (Ctrl-C stops); prints their URLs."""
    # imported here: the registry apps and uvicorn would slow every other fsp command's start
    import uvicorn

    from provisioning_cli.drift.schedule import start_drift_schedule
    from provisioning_cli.targets.local_serve import build_gateway, publish_some, tenant_urls

    local = open_target(home, catalog)
    only = [resolve_tenant(local.catalog, ref) for ref in tenants] if tenants else None
    with boundary():
        # the MQTT bridges and the shippers post to this server on loopback, whatever address it listens on
        own = f"http://{loopback(host)}:{port}"
        ministry = local.catalog.ministry
        # the ministry is here unless this server serves only some provinces: then where the fleet's answers
        ministry_url = f"{own if only is None or ministry in only else local.base_url()}/{ministry.slug}"
        gateway, specs = build_gateway(local, only, bridge_base=own, sweep_seconds=sweep_interval or None,
                                       ship_seconds=ship_interval or None, ministry_url=ministry_url)
        if not specs:
            fail("nothing to serve: " + (f"{', '.join(spec.slug for spec in only)} not provisioned or taken down"
                                         if only else "provision tenants first, e.g. `fsp up --pilots`"))
        if only is None:
            local.publish(host, port)
        else:
            publish_some(local, specs, host, port)
    base = f"http://{host}:{port}"
    urls = [tenant_urls(base, spec) for spec in specs]
    if json_:
        print_json({"index": f"{base}/", "tenants": urls})
    else:
        typer.echo(f"serving {len(specs)} tenant(s) on {base}/ (the provinces' portals; JSON of their URLs for clients)")
        for entry in urls:
            typer.echo(f"  {entry['tenant']:<12} portal {entry['portal']}  workbench {entry['workbench']}  "
                       f"api {entry['api']}  (docs {entry['docs']})")
    # the ministry's server checks the fleet for drift; a server of some provinces only does not
    ministry_served = only is None or local.catalog.ministry in only
    drift = start_drift_schedule(local, drift_interval) if drift_interval and ministry_served else None
    try:
        uvicorn.run(gateway, host=host, port=port, log_level="info")
    finally:
        if drift is not None:
            drift.stop()
