"""`fsp users`: people in a tenant's Keycloak realm — add, list, disable, grant and revoke roles."""
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from keycloak import KeycloakAdmin

from infra.ensure.realm import connect
from infra.ensure.realm_users import User, add_user, disable_user, find_user, list_users, set_roles
from provisioning_cli.common import boundary
from provisioning_cli.keycloak_admin import admin_credentials, keycloak_url
from provisioning_cli.options import AdminUserOpt, CatalogOpt, JsonOpt, KeycloakUrlOpt
from provisioning_cli.output import open_catalog, print_json, print_table, resolve_tenant
from registry.security.permissions import Role
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True, help="People in a tenant's Keycloak realm (never deleted, only disabled).")

ROLES = ", ".join(role.value for role in Role)
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant slug (beijing) or GB/T 2260 code (110000).")]
UsernameArg = Annotated[str, typer.Argument(help="Personal username, e.g. zhang.wei.")]
COLUMNS = ["username", "enabled", "roles", "institution", "required actions"]


@contextmanager
def realm_admin(tenant: str, url: str | None, admin_user: str | None,
                catalog) -> Iterator[tuple[TenantSpec, KeycloakAdmin]]:
    spec = resolve_tenant(open_catalog(catalog), tenant)
    server = keycloak_url(spec, url)
    user, password = admin_credentials(admin_user)
    with boundary():
        yield spec, connect(server, user, password, spec.realm_name)


def _row(user: User) -> list:
    return [user.username, "yes" if user.enabled else "no", ", ".join(user.roles), user.institution_id or "",
            ", ".join(user.required_actions)]


def _show(users: list[User], json_: bool, **extra) -> None:
    if json_:
        print_json({**extra, "users": [user.as_dict() for user in users]} if extra else
                   [user.as_dict() for user in users])
        return
    print_table(COLUMNS, [_row(user) for user in users])
    for key, value in extra.items():
        typer.echo(f"{key.replace('_', ' ')}: {value}")


@app.command("add")
def add(
    username: UsernameArg,
    tenant: TenantOpt,
    roles: Annotated[list[str] | None, typer.Option("--role", help=f"Realm role, repeatable: {ROLES}.")] = None,
    institution: Annotated[uuid.UUID | None, typer.Option("--institution", metavar="UUID",
                                                          help="Institution a registrar is bound to.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    first_name: Annotated[str | None, typer.Option("--first-name", help="Given name.")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name", help="Family name.")] = None,
    url: KeycloakUrlOpt = None, admin_user: AdminUserOpt = None, json_: JsonOpt = False, catalog: CatalogOpt = None,
) -> None:
    """Add a personal account with a one-time temporary password (shown once; changed at first sign-in)."""
    with realm_admin(tenant, url, admin_user, catalog) as (spec, admin):
        user, password = add_user(admin, spec, username, roles=set(roles or ()), institution_id=institution,
                                  email=email, first_name=first_name, last_name=last_name)
    outcome = "created" if password else "unchanged"
    extra = {"outcome": outcome}
    if password:
        extra["temporary_password"] = password  # shown this once; Keycloak makes the person replace it
    _show([user], json_, **extra)


@app.command("list")
def list_(tenant: TenantOpt, url: KeycloakUrlOpt = None, admin_user: AdminUserOpt = None, json_: JsonOpt = False,
          catalog: CatalogOpt = None) -> None:
    """Every account of the tenant's realm with its roles."""
    with realm_admin(tenant, url, admin_user, catalog) as (_, admin):
        users = list_users(admin)
    _show(users, json_)


@app.command("disable")
def disable(username: UsernameArg, tenant: TenantOpt, url: KeycloakUrlOpt = None, admin_user: AdminUserOpt = None,
            json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """Disable an account: it can no longer sign in, and stays for the audit trail."""
    with realm_admin(tenant, url, admin_user, catalog) as (_, admin):
        user, outcome = disable_user(admin, username)
    _show([user], json_, outcome=outcome)


@app.command("roles")
def roles(
    username: UsernameArg,
    tenant: TenantOpt,
    grant: Annotated[list[str] | None, typer.Option("--grant", help="Role to grant, repeatable.")] = None,
    revoke: Annotated[list[str] | None, typer.Option("--revoke", help="Role to revoke, repeatable.")] = None,
    url: KeycloakUrlOpt = None, admin_user: AdminUserOpt = None, json_: JsonOpt = False, catalog: CatalogOpt = None,
) -> None:
    """Show, grant or revoke realm roles; two of system-, security- and audit-admin on one person are refused."""
    with realm_admin(tenant, url, admin_user, catalog) as (spec, admin):
        if grant or revoke:
            user, outcome = set_roles(admin, spec, username, grant=set(grant or ()), revoke=set(revoke or ()))
        else:
            user, outcome = find_user(admin, username), "unchanged"
    _show([user], json_, outcome=outcome)
