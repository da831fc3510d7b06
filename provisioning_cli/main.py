"""The `fsp` entry point: joins one Typer app per command group."""

import typer

from provisioning_cli import tenants_cmd

app = typer.Typer(
    no_args_is_help=True,
    help="Provision and operate the funeral-service platform: the ministry and one stack per province.",
)
app.add_typer(tenants_cmd.app, name="tenants")

if __name__ == "__main__":
    app()
