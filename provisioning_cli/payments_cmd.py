"""`fsp payments`: the daily reconciliation of a province's online payments with the provider's statement."""
import os
from datetime import date, timedelta
from typing import Annotated

import typer
from sqlmodel import Session

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant
from registry.config import Settings
from registry.db_types import today_in_china
from registry.journal import Journal
from registry.payments import reconcile as reconciliation
from registry.payments import runtime
from registry.payments.runtime import PaymentNotOffered, PaymentUnavailable

app = typer.Typer(no_args_is_help=True, help="Online payments of booked services.")

ACTOR = "fsp-reconcile"  # the audit trail's actor of reconciliations run here (e.g. by the daily timer)
KINDS = ("matched", "missing_at_provider", "missing_locally", "amount_mismatch", "repaired", "closed")


@app.command("reconcile")
def reconcile(
    tenant: TenantArg,
    day: Annotated[str | None, typer.Option("--day", metavar="YYYY-MM-DD", show_default=False,
                                            help="The day (China time) to reconcile; default yesterday.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Compare the day's payments with the provider's statement: matched, missing at the provider, missing
    here, of another amount. An order paid at the provider whose notice was lost becomes paid, orders expired
    unpaid are closed; the result is recorded and audited. The provider is configured by the FSP_PAYMENT_*
    variables (its URL, public key file, merchant id and key)."""
    try:
        on = date.fromisoformat(day) if day else today_in_china() - timedelta(days=1)
    except ValueError:
        fail(f"--day {day!r} is not a day (YYYY-MM-DD)")
    if on > today_in_china():
        fail(f"--day {on} is in the future")
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if spec.kind == "ministry":
        fail("payments belong to a province")
    with boundary():
        settings = _with_provider(local.settings(spec))
        payments = runtime.from_settings(settings)
        with local.engine(spec) as engine, Session(engine) as session:
            journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
            try:
                result = reconciliation.reconcile(session, journal=journal, payments=payments, actor=ACTOR, day=on)
            except (PaymentNotOffered, PaymentUnavailable) as err:
                fail(f"{spec.slug}: {err}")
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    print_table(["found", "orders"], ([kind, getattr(result, kind)] for kind in KINDS),
                title=f"{spec.slug}: reconciliation of {on}")


def _with_provider(settings: Settings) -> Settings:
    """The tenant's settings with the provider's from FSP_PAYMENT_* (tenant.json holds no merchant key)."""
    given = {name: os.environ[f"FSP_{name.upper()}"] for name in Settings.model_fields
             if name.startswith("payment_") and f"FSP_{name.upper()}" in os.environ}
    return Settings(**{**settings.model_dump(), **given}) if given else settings
