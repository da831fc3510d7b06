"""`fsp sso`: a tenant's Keycloak realm as code — print the representation, apply it to a server."""

import typer

from infra.ensure import ProvisioningError
from infra.ensure.realm import apply_realm, desired_realm, government_identity_secret, identity_provider_status
from provisioning_cli.common import boundary
from provisioning_cli.keycloak_admin import admin_credentials, keycloak_url
from provisioning_cli.options import AdminUserOpt, CatalogOpt, JsonOpt, KeycloakUrlOpt, TenantArg
from provisioning_cli.output import fail, open_catalog, print_json, print_table, resolve_tenant

app = typer.Typer(no_args_is_help=True, help="The tenant's Keycloak realm: roles, clients and grade-3 settings.")

@app.command("realm")
def realm(tenant: TenantArg, json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """Print the Keycloak realm representation that `fsp sso apply` converges to (Keycloak's field names)."""
    spec = resolve_tenant(open_catalog(catalog), tenant)
    representation = desired_realm(spec)
    if json_:
        print_json(representation)
        return
    settings = [(key, value) for key, value in representation.items()
                if key not in ("roles", "clients", "requiredActions", "identityProviders", "identityProviderMappers")]
    settings.append(("roles", ", ".join(role["name"] for role in representation["roles"]["realm"])))
    settings.append(("clients", ", ".join(client["clientId"] for client in representation["clients"])))
    settings.append(("requiredActions", ", ".join(a["alias"] for a in representation["requiredActions"])))
    settings.append(("citizens' identity provider", identity_provider_status(spec)))
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
            results = apply_realm(server, user, password, spec, identity_secret=government_identity_secret())
        except ProvisioningError as err:
            fail(f"{spec.realm_name}: {err}")
    if json_:
        print_json([{"tenant": spec.slug, "realm": spec.realm_name, "object": name, "outcome": outcome}
                    for name, outcome in results])
        return
    print_table(["object", "outcome"], results, title=f"realm {spec.realm_name} at {server}")
