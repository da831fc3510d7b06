"""A tenant's Keycloak realm, as a Pulumi dynamic resource over the SSO ensure-functions (infra.ensure.realm)."""
import importlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from infra.providers import changed, fingerprint, reveal
from tenants import TenantSpec


def _realm_functions():
    # imported when used: the provider runs wherever the engine starts it, with the kit installed
    return importlib.import_module("infra.ensure.realm")


def _desired(props: dict[str, Any]) -> str:
    return fingerprint(_realm_functions().desired_realm(TenantSpec.model_validate(props["tenant"])))


def _apply(props: dict[str, Any]) -> dict[str, Any]:
    spec = TenantSpec.model_validate(props["tenant"])
    objects = _realm_functions().apply_realm(props["server_url"], reveal(props["admin_username"]),
                                              reveal(props["admin_password"]), spec,
                                              identity_secret=reveal(props.get("identity_secret")))
    # what state keeps: names, outcomes and a fingerprint; never the admin's credentials nor the identity's secret
    return {"server_url": props["server_url"], "realm": spec.realm_name, "tenant": props["tenant"],
            "desired": _desired(props), "objects": [[name, outcome] for name, outcome in objects]}


class KeycloakRealmProvider(ResourceProvider):
    """create/update = apply_realm (idempotent: converges the realm to desired_realm(spec))."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _apply(props)
        return CreateResult(id_=outs["realm"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new_realm = TenantSpec.model_validate(news["tenant"]).realm_name
        replaces = changed(olds, news, ("server_url",)) + (["realm"] if new_realm != olds.get("realm") else [])
        updates = replaces + (["desired"] if _desired(news) != olds.get("desired") else [])
        return DiffResult(changes=bool(updates), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_apply(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # a realm holds every staff account and its audit trail: removing it is left to Keycloak's administrators
        return None


class KeycloakRealm(Resource, module="fsp", name="KeycloakRealm"):
    """The tenant's realm on the Keycloak at `server_url`, as desired_realm(spec) describes it."""

    realm: pulumi.Output[str]
    desired: pulumi.Output[str]

    def __init__(self, name: str, *, spec: TenantSpec, server_url: str, admin_username: pulumi.Input[str],
                 admin_password: pulumi.Input[str], identity_secret: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        secrets = pulumi.ResourceOptions(additional_secret_outputs=["admin_username", "admin_password",
                                                                    "identity_secret"])
        super().__init__(KeycloakRealmProvider(), name, {
            "server_url": server_url, "tenant": spec.model_dump(mode="json"),
            "admin_username": pulumi.Output.secret(admin_username),
            "admin_password": pulumi.Output.secret(admin_password),
            "identity_secret": pulumi.Output.secret(identity_secret) if identity_secret is not None else None,
            "realm": None, "desired": None, "objects": None,
        }, pulumi.ResourceOptions.merge(secrets, opts))
