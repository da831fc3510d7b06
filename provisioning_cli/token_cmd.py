"""`fsp token`: a token from a tenant's own development issuer, for trying the API locally."""
import uuid
from typing import Annotated

import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.lifecycle import Lifecycle, lifecycle_of
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, resolve_tenant
from provisioning_cli.targets.local_state import read_json
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys
from registry.security.permissions import Role

VALID_ROLES = sorted(role.value for role in Role)


def token(
    tenant: TenantArg,
    roles: Annotated[list[str], typer.Option("--role", help=f"Realm role, repeatable: {', '.join(VALID_ROLES)}.",
                                             show_default=False)],
    institution: Annotated[uuid.UUID | None, typer.Option("--institution", metavar="UUID",
                                                          help="Institution a registrar is bound to.")] = None,
    subject: Annotated[str, typer.Option("--subject", help="Who the token is for.")] = "dev-user",
    ttl: Annotated[int, typer.Option("--ttl", min=1, max=86400, help="Lifetime in seconds.")] = 3600,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Mint a bearer token for a tenant that uses the development issuer (never for Keycloak tenants)."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if spec.sso.provider == "keycloak":
        fail(f"{spec.slug} signs in with Keycloak (realm {spec.realm_name} at {spec.sso.keycloak_url}): "
             "get a token there; `fsp token` mints only for development issuers")
    unknown = [role for role in roles if role not in VALID_ROLES]
    if unknown:
        fail(f"unknown role {', '.join(map(repr, unknown))}; valid roles: {', '.join(VALID_ROLES)}")
    lifecycle = lifecycle_of(read_json(local.home.tenant(spec.slug).state))
    if lifecycle is not None and lifecycle.state in (Lifecycle.suspended, Lifecycle.offboarding):
        # a token is a sign-in: refused like the portal's while the tenant is suspended
        fail(f"{spec.slug} is {lifecycle.state.value}: no sign-in until `fsp resume {spec.slug}`")
    with boundary():
        settings = local.settings(spec)
        issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                                   audience=settings.token_audience)
    minted = issuer.mint(subject, roles, institution_id=institution, ttl_seconds=ttl)
    if json_:
        print_json({"tenant": spec.slug, "issuer": issuer.issuer, "audience": issuer.audience, "subject": subject,
                    "roles": sorted(roles), "institution_id": str(institution) if institution else None,
                    "expires_in": ttl, "token": minted})
        return
    typer.echo(minted)
