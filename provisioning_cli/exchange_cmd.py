"""`fsp exchange`: ship provinces' outbox events to the ministry over HTTP, and compare where each one stands."""
from typing import Annotated, Any

import httpx
import typer
from sqlmodel import Session

from provisioning_cli.common import boundary, exit_on_problems, open_target, provinces_taking_part
from provisioning_cli.options import DEFAULT_HOME, AllOpt, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import print_json, print_table
from provisioning_cli.targets.local import LocalTarget
from registry.exchange import outbound
from registry.exchange import service as exchange
from registry.exchange.shipper import Shipper, ShipRefused, ShipUnavailable
from registry.exchange.signing import BatchSigner, SigningKeyError
from registry.journal import Journal
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True, help="Data exchange: provinces' outbox events into the national database.")

SHIP_COLUMNS = ("tenant", "shipped", "acknowledged through", "pending", "matches received", "problem")
PAUSED = "suspended: its exchange is paused (nothing shipped; `fsp resume {slug}` ships from where it stopped)"
STATUS_COLUMNS = ("tenant", "code", "outbox head", "shipped", "pending", "acknowledged at ministry", "behind")


@app.command("ship")
def ship(
    tenants: TenantsArg = None,
    all_: AllOpt = False,
    ministry_url: Annotated[str | None, typer.Option(
        "--ministry-url", metavar="URL", show_default=False,
        help="Base URL of the ministry's registry (default: where `fsp serve` answers, under /<ministry>).")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Send each province's pending outbox to the ministry in signed batches; safe to re-run (idempotent).
    `--all`: every provisioned province whose exchange is on."""
    local = open_target(home, catalog)
    specs = _chosen(local, tenants, all_)
    url = (ministry_url or f"{local.base_url()}/{local.catalog.ministry.slug}").rstrip("/")
    rows = []
    with boundary(), httpx.Client(timeout=10) as client:
        for spec in specs:
            rows.append(_ship_one(local, spec, url, client))
    if json_:
        print_json(rows)
    else:
        print_table(SHIP_COLUMNS, ([r["tenant"], r["shipped"], _dash(r["acknowledged_through"]), r["pending"],
                                    r["matches_received"], _dash(r["problem"])] for r in rows),
                    title=f"shipped to {url}")
        for row in rows:
            if row["paused"]:
                typer.echo(f"{row['tenant']}: {PAUSED.format(slug=row['tenant'])}")
            if row["matches_problem"]:
                typer.echo(f"{row['tenant']}: shipped, but the cross-province pairs were not pulled "
                           f"({row['matches_problem']}); the next round asks again", err=True)
    exit_on_problems(rows, lambda row: row["tenant"])


@app.command("status")
def status(
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Per provisioned province: its outbox head and what is shipped, against what the ministry acknowledged."""
    local = open_target(home, catalog)
    with boundary():
        with local.engine(local.catalog.ministry) as ministry, Session(ministry) as session:
            acknowledged = {c.province_slug: c.acknowledged_seq for c in exchange.list_cursors(session)}
        rows = []
        for spec in local.catalog.provinces:
            if not local.is_provisioned(spec):
                continue
            with local.engine(spec) as engine:
                position = outbound.outbox_position(engine)
            at_ministry = acknowledged.get(spec.slug, 0)
            rows.append({"tenant": spec.slug, "code": spec.code, "exchange": spec.exchange.enabled,
                         "outbox_head": position["head"], "shipped": position["shipped"],
                         "pending": position["pending"], "acknowledged_at_ministry": at_ministry,
                         "behind": position["head"] - at_ministry})
    if json_:
        print_json(rows)
        return
    if not rows:
        typer.echo("no province is provisioned here: `fsp up <province>` first")
        return
    print_table(STATUS_COLUMNS, ([r["tenant"], r["code"], r["outbox_head"], r["shipped"], r["pending"],
                                  r["acknowledged_at_ministry"], r["behind"]] for r in rows))


def _chosen(local: LocalTarget, refs: list[str] | None, all_: bool) -> list[TenantSpec]:
    """The provinces to ship: those named, or with --all every provisioned one whose exchange is on."""
    return provinces_taking_part(local, refs, all_, verb="ship", refusal=_cannot_ship,
                                 none_left="no provisioned province has its exchange on: `fsp up <province>` first")


def _cannot_ship(spec: TenantSpec) -> str | None:
    if spec.kind != "province":
        return f"{spec.slug} is the ministry: it receives batches, name provinces"
    if not spec.exchange.enabled:
        return f"{spec.slug}'s exchange is switched off in the catalog (exchange.enabled: false)"
    return None


def _ship_one(local: LocalTarget, spec: TenantSpec, url: str, client: httpx.Client) -> dict[str, Any]:
    settings = local.settings(spec)
    with local.engine(spec) as engine:
        before = outbound.outbox_position(engine)
        problem, acknowledged, paused, matches, matches_problem = None, None, False, 0, None
        try:
            shipper = Shipper(engine=engine, signer=BatchSigner(settings.keys_dir), url=url, province=spec.slug,
                              province_code=spec.code, client=client, batch_size=spec.exchange.batch_size,
                              max_bytes=settings.exchange_max_batch_bytes, retry_attempts=3, retry_base_seconds=0.5,
                              journal=Journal.of(engine, keys_dir=settings.keys_dir,
                                                 checkpoint_file=settings.audit_checkpoint_path))
            report = shipper.ship_pending()
            acknowledged, paused, matches = report.acknowledged_through, report.paused, report.matches_received
            matches_problem = report.matches_problem
        except (ShipRefused, ShipUnavailable, SigningKeyError) as exc:
            problem = str(exc)
        after = outbound.outbox_position(engine)
    return {"tenant": spec.slug, "shipped": before["pending"] - after["pending"],
            "acknowledged_through": acknowledged if acknowledged is not None else after["shipped"],
            "pending": after["pending"], "matches_received": matches, "matches_problem": matches_problem,
            "problem": problem, "paused": paused}



def _dash(value: object) -> object:
    return "-" if value is None else value
