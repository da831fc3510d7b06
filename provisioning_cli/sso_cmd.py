"""`fsp sso`: a tenant's Keycloak realm as code — print the representation, apply it to a server."""
import os
import sys
from typing import Annotated

import typer

from infra.ensure import ProvisioningError
from infra.ensure.realm import apply_realm, desired_realm
from provisioning_cli.common import TenantArg, boundary
from provisioning_cli.output import CatalogOpt, JsonOpt, fail, open_catalog, print_json, print_table, resolve_tenant
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True, help="The tenant's Keycloak realm: roles, clients and grade-3 settings.")

ADMIN_USER_ENV, ADMIN_PASSWORD_ENV = "FSP_KEYCLOAK_ADMIN_USER", "FSP_KEYCLOAK_ADMIN_PASSWORD"
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


def admin_credentials(user: str | None) -> tuple[str, str]:
    """The Keycloak administrator: from the environment, else asked at a terminal (never as an option)."""
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if user and password:
        return user, password
    if not sys.stdin.isatty():
        fail(f"Keycloak admin credentials needed: set {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV}")
    user = user or typer.prompt("Keycloak admin user")
    return user, password or typer.prompt("Keycloak admin password", hide_input=True)


def keycloak_url(spec: TenantSpec, url: str | None) -> str:
    """The server to talk to: the option, else the catalog's; a development tenant needs the option."""
    if url:
        return url.rstrip("/")
    if spec.sso.keycloak_url is None:
        fail(f"{spec.slug} uses the development issuer (no sso.keycloak_url in the catalog): pass --keycloak-url")
    return str(spec.sso.keycloak_url).rstrip("/")


@app.command("realm")
def realm(tenant: TenantArg, json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """Print the Keycloak realm representation that `fsp sso apply` converges to (Keycloak's field names)."""
    spec = resolve_tenant(open_catalog(catalog), tenant)
    representation = desired_realm(spec)
    if json_:
        print_json(representation)
        return
    settings = [(key, value) for key, value in representation.items()
                if key not in ("roles", "clients", "requiredActions")]
    settings.append(("roles", ", ".join(role["name"] for role in representation["roles"]["realm"])))
    settings.append(("clients", ", ".join(client["clientId"] for client in representation["clients"])))
    settings.append(("requiredActions", ", ".join(a["alias"] for a in representation["requiredActions"])))
    print_table(["setting", "value"], settings, title=f"realm {spec.realm_name}")


@app.command("apply")
def apply(tenant: TenantArg, url: KeycloakUrlOpt = None, admin_user: AdminUserOpt = None, json_: JsonOpt = False,
          catalog: CatalogOpt = None) -> None:
    """Create or update the tenant's realm on Keycloak; report created/updated/unchanged per object."""
    spec = resolve_tenant(open_catalog(catalog), tenant)
    server = keycloak_url(spec, url)
    user, password = admin_credentials(admin_user)
    with boundary():
        try:
            results = apply_realm(server, user, password, spec)
        except ProvisioningError as err:
            fail(f"{spec.realm_name}: {err}")
    if json_:
        print_json([{"tenant": spec.slug, "realm": spec.realm_name, "object": name, "outcome": outcome}
                    for name, outcome in results])
        return
    print_table(["object", "outcome"], results, title=f"realm {spec.realm_name} at {server}")
