"""Every option and argument more than one `fsp` command takes, defined once; commands import them from here."""
from pathlib import Path
from typing import Annotated

import typer

from provisioning_cli.targets import TARGETS

DEFAULT_HOME = Path(".fsp")
ADMIN_USER_ENV, ADMIN_PASSWORD_ENV = "FSP_KEYCLOAK_ADMIN_USER", "FSP_KEYCLOAK_ADMIN_PASSWORD"

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", envvar="FSP_CATALOG", metavar="DIR",
                 help="Tenant catalog directory (default: the packaged catalog)."),
]
HomeOpt = Annotated[
    Path,
    typer.Option("--home", envvar="FSP_HOME", metavar="DIR", help="State directory of the local target."),
]
PostgresOpt = Annotated[
    str | None,
    typer.Option("--postgres", envvar="FSP_POSTGRES_URL", metavar="DSN", show_envvar=True,
                 help="Admin DSN of a PostgreSQL server (CREATEDB CREATEROLE): a database and role per tenant "
                      "instead of SQLite files."),
]
TargetOpt = Annotated[str, typer.Option("--target", help=f"Where the tenant runs: {' or '.join(TARGETS)}.")]
KubernetesOnlyOpt = Annotated[
    str, typer.Option("--target", help="Only kubernetes: the local target reports its changes with `fsp up`."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend-url", envvar="FSP_PULUMI_BACKEND_URL", metavar="URL", show_envvar=True,
                 help="Pulumi state backend (default: file:// under $FSP_HOME/pulumi)."),
]

# choosing tenants: one by slug or code, several by name, or the pilots, or all of them
TenantArg = Annotated[str, typer.Argument(help="Tenant slug (beijing) or GB/T 2260 code (110000).")]
TenantsArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="TENANT", show_default=False, help="Tenants by slug (beijing) or code (110000)."),
]
PilotsOpt = Annotated[bool, typer.Option("--pilots", help="The pilot provinces.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every tenant the command applies to.")]

KeycloakUrlOpt = Annotated[
    str | None,
    typer.Option("--keycloak-url", envvar="FSP_KEYCLOAK_URL", metavar="URL",
                 help="Keycloak server (default: the tenant's sso.keycloak_url in the catalog)."),
]
AdminUserOpt = Annotated[
    str | None,
    typer.Option("--admin-user", envvar=ADMIN_USER_ENV, show_envvar=True,
                 help=f"Master-realm administrator; the password comes from ${ADMIN_PASSWORD_ENV} or a prompt."),
]

BackupKeyOpt = Annotated[
    Path | None,
    typer.Option("--backup-key-file", envvar="FSP_BACKUP_KEY_FILE", metavar="FILE", show_envvar=True,
                 help="File holding the backup key (32 hex digits), kept apart from the backups; "
                      "or set FSP_BACKUP_KEY to the key itself."),
]

# maintenance windows (fsp maintenance start, fsp down)
ReasonOpt = Annotated[str | None, typer.Option("--reason", metavar="TEXT", help="Why the tenant is down (shown "
                                                                               "in every view and on the silence).")]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", metavar="TIME", help="When the window ends: 2026-12-01T08:00 (China time) or with an offset.")]
ForOpt = Annotated[str | None, typer.Option("--for", metavar="DURATION", help="How long the window lasts: 2h, "
                                                                             "90m, 1h30m (at most 7 days).")]
AlertmanagerOpt = Annotated[str | None, typer.Option(
    "--alertmanager-url", envvar="FSP_ALERTMANAGER_URL", metavar="URL",
    help="Alertmanager holding the silences (default: the one `fsp monitoring up` runs here, if it runs).")]
