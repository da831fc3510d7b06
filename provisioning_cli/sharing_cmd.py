"""`fsp sharing`: deliver provinces' confirmed deaths to the departments in their catalog entries, and show where
each department stands."""
from typing import Annotated, Any

import httpx
import typer
from sqlmodel import Session

from provisioning_cli.common import boundary, exit_on_problems, open_target, provinces_taking_part
from provisioning_cli.options import DEFAULT_HOME, AllOpt, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import fail, print_json, print_table
from provisioning_cli.targets.local import LocalTarget
from registry.exchange.signing import BatchSigner, SigningKeyError
from registry.journal import Journal
from registry.security.keys import load_keys
from registry.sharing import service as sharing
from registry.sharing.departments import DEPARTMENTS
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True,
                  help="Data sharing with other departments (部门数据共享): confirmed deaths, each department its "
                       "own fields.")

ACTOR = "fsp-sharing"  # the audit trail's actor of deliveries run from here
DELIVER_COLUMNS = ("tenant", "department", "delivered", "through", "problem")
STATUS_COLUMNS = ("tenant", "department", "endpoint", "delivered through", "waiting")
PAUSED = "suspended: its sharing is paused (nothing delivered; `fsp resume {slug}` delivers from where it stopped)"


@app.command("deliver")
def deliver(
    tenants: TenantsArg = None,
    all_: AllOpt = False,
    department: Annotated[list[str] | None, typer.Option(
        "--department", show_default=False,
        help=f"Only these departments (repeatable): {', '.join(DEPARTMENTS)}.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Send each department the notices it has not received; safe to re-run. Exits 1 if any delivery failed.
    `--all`: every provisioned province with departments."""
    local = open_target(home, catalog)
    unknown = sorted(set(department or ()) - set(DEPARTMENTS))
    if unknown:
        fail(f"unknown department {', '.join(unknown)}; known: {', '.join(DEPARTMENTS)}")
    rows = []
    with boundary(), httpx.Client(timeout=30) as client:
        for spec in _chosen(local, tenants, all_):
            rows.extend(_deliver_one(local, spec, client, only=set(department or ())))
    if json_:
        print_json(rows)
    else:
        print_table(DELIVER_COLUMNS, ([r["tenant"], r["department"], r["delivered"], r["through"],
                                      r["problem"] or "-"] for r in rows))
        for paused in sorted({row["tenant"] for row in rows if row["paused"]}):
            typer.echo(f"{paused}: {PAUSED.format(slug=paused)}")
    exit_on_problems(rows, lambda row: f"{row['tenant']} → {row['department']}")


@app.command("status")
def status(
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Per provisioned province and department: how far it has received, and how many notices wait."""
    local = open_target(home, catalog)
    rows = []
    with boundary():
        for spec in local.catalog.provinces:
            if not spec.sharing.departments or not local.is_provisioned(spec):
                continue
            with local.engine(spec) as engine, Session(engine) as session:
                for key, url in spec.sharing.departments.items():
                    through, waiting = sharing.pending(session, key)
                    rows.append({"tenant": spec.slug, "department": key, "endpoint": str(url),
                                 "delivered_through": through, "waiting": waiting})
    if json_:
        print_json(rows)
        return
    if not rows:
        typer.echo("no provisioned province shares with a department (catalog: sharing.departments)")
        return
    print_table(STATUS_COLUMNS, ([r["tenant"], r["department"], r["endpoint"], r["delivered_through"],
                                  r["waiting"]] for r in rows))


def _chosen(local: LocalTarget, refs: list[str] | None, all_: bool) -> list[TenantSpec]:
    """The provinces to deliver for: those named, or with --all every provisioned one with departments."""
    return provinces_taking_part(
        local, refs, all_, verb="deliver for",
        refusal=lambda spec: None if spec.sharing.departments else (
            f"{spec.slug} shares with no department: add them to its catalog entry (sharing.departments)"),
        none_left="no provisioned province shares with a department (catalog: sharing.departments)")


def _deliver_one(local: LocalTarget, spec: TenantSpec, client: httpx.Client, *, only: set[str]) -> list[dict]:
    settings = local.settings(spec)
    keys = load_keys(settings.keys_dir)
    chosen = [(key, url) for key, url in spec.sharing.departments.items() if not only or key in only]
    try:
        signer = BatchSigner(settings.keys_dir)  # one key read for all of the province's departments
    except SigningKeyError as exc:
        return [{"tenant": spec.slug, "department": key, "delivered": 0, "through": None, "problem": str(exc),
                 "paused": False} for key, _ in chosen]
    rows: list[dict[str, Any]] = []
    with local.engine(spec) as engine:
        journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
        for key, url in chosen:
            problem, report = None, sharing.DeliveryReport(key)
            try:
                report = sharing.deliver(journal, keys, DEPARTMENTS[key], url=str(url), signer=signer, client=client,
                                         province=sharing.Province(spec.slug, spec.code), actor=ACTOR)
            except sharing.DeliveryError as exc:  # what was delivered before the failure stays delivered
                problem, report = str(exc), exc.report or report
            rows.append({"tenant": spec.slug, "department": key, "delivered": report.notices,
                         "through": report.through, "problem": problem, "paused": report.paused})
    return rows
