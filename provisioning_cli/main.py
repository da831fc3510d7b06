"""The `fsp` entry point: joins one Typer app per command group."""

import typer

from provisioning_cli import down_cmd, serve_cmd, status_cmd, tenants_cmd, token_cmd, up_cmd

app = typer.Typer(
    no_args_is_help=True,
    help="Provision and operate the funeral-service platform: the ministry and one stack per province.",
)
app.add_typer(tenants_cmd.app, name="tenants")
app.command("up")(up_cmd.up)
app.command("status")(status_cmd.status)
app.command("down")(down_cmd.down)
app.command("serve")(serve_cmd.serve)
app.command("token")(token_cmd.token)

if __name__ == "__main__":
    app()
