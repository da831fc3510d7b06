"""The `fsp` entry point: joins one Typer app per command group."""

import typer

from provisioning_cli import (
    backfill_cmd,
    backup_cmd,
    baseline_cmd,
    certificate_cmd,
    devices_cmd,
    down_cmd,
    drift_cmd,
    exchange_cmd,
    fleet_cmd,
    keys_cmd,
    lifecycle_cmd,
    maintenance_cmd,
    monitoring_cmd,
    national_cmd,
    payments_cmd,
    plan_cmd,
    preview_cmd,
    restore_cmd,
    serve_cmd,
    sharing_cmd,
    sso_cmd,
    status_cmd,
    tenants_cmd,
    token_cmd,
    up_cmd,
    upgrade_cmd,
    users_cmd,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Provision and operate the funeral-service platform: the ministry and one stack per province.",
)
app.add_typer(tenants_cmd.app, name="tenants")
app.add_typer(sso_cmd.app, name="sso")
app.add_typer(users_cmd.app, name="users")
app.command("up")(up_cmd.up)
app.command("upgrade")(upgrade_cmd.upgrade)
app.command("status")(status_cmd.status)
app.command("down")(down_cmd.down)
app.command("suspend")(lifecycle_cmd.suspend)
app.command("resume")(lifecycle_cmd.resume)
app.command("offboard")(lifecycle_cmd.offboard)
app.command("drift")(drift_cmd.drift)
app.command("serve")(serve_cmd.serve)
app.command("token")(token_cmd.token)
app.command("plan")(plan_cmd.plan)
app.command("preview")(preview_cmd.preview)
app.command("backup")(backup_cmd.backup)
app.command("restore")(restore_cmd.restore)
app.command("backfill")(backfill_cmd.backfill)
app.add_typer(monitoring_cmd.app, name="monitoring")
app.add_typer(fleet_cmd.app, name="fleet")
app.add_typer(maintenance_cmd.app, name="maintenance")
app.add_typer(exchange_cmd.app, name="exchange")
app.add_typer(sharing_cmd.app, name="sharing")
app.add_typer(certificate_cmd.app, name="certificate")
app.add_typer(national_cmd.app, name="national")
app.add_typer(devices_cmd.app, name="devices")
app.add_typer(baseline_cmd.app, name="baseline")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(payments_cmd.app, name="payments")

if __name__ == "__main__":
    app()
