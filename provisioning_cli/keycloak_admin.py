"""The Keycloak server and administrator a command talks to: from options, the catalog, the environment or a
prompt (a password never as an option)."""
import os
import sys

import typer

from provisioning_cli.options import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from provisioning_cli.output import fail
from tenants import TenantSpec


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
