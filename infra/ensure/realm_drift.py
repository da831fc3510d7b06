"""How a tenant's live Keycloak realm differs from `desired_realm`, read through the admin API; changes nothing.

Each difference is one object's field as `apply_realm` would converge it (so `fsp up` repairs every one of them);
users are not declared and so never drift. Secrets are never read or shown.
"""
from keycloak import KeycloakAdmin

from infra.ensure.realm import (
    INSTITUTION_ATTRIBUTE,
    INSTITUTION_PROFILE_ATTRIBUTE,
    REQUIRED_ACTIONS,
    ROLE_DESCRIPTIONS,
    drift,
    identity_provider,
    identity_provider_mappers,
    realm_clients,
    realm_roles,
    realm_settings,
)
from registry.security.permissions import Role
from tenants import TenantSpec

# (field, declared, live), the field named `<object>.<setting>`
Difference = tuple[str, object, object]


def realm_drift(admin: KeycloakAdmin, spec: TenantSpec) -> list[Difference]:
    """Every declared realm object that is missing or differs, field by field (`admin` works on the realm)."""
    if spec.realm_name not in {realm["realm"] for realm in admin.get_realms()}:
        return [("realm", "present", "absent")]
    found = _fields("realm", realm_settings(spec), admin.get_realm(spec.realm_name))
    actions = {action.get("alias"): action for action in admin.get_required_actions()}
    found += [(f"required-action {alias}.enabled", True, actions.get(alias, {}).get("enabled"))
              for alias in REQUIRED_ACTIONS if not actions.get(alias, {}).get("enabled")]
    attributes = admin.get_realm_users_profile().get("attributes") or []
    attribute = next((a for a in attributes if a.get("name") == INSTITUTION_ATTRIBUTE), None)
    found += _object(f"user-profile {INSTITUTION_ATTRIBUTE}", INSTITUTION_PROFILE_ATTRIBUTE, attribute)
    roles = {role["name"]: role for role in admin.get_realm_roles(brief_representation=False)}
    for name in realm_roles(spec):
        found += _object(f"role {name}", {"description": ROLE_DESCRIPTIONS[Role(name)]}, roles.get(name))
    for client in realm_clients(spec):
        found += _client(admin, client)
    provider = identity_provider(spec)
    if provider is not None:
        live = next((p for p in admin.get_idps() if p.get("alias") == provider["alias"]), None)
        found += _object(f"identity-provider {provider['alias']}", provider, live)
        if live is not None:
            mappers = {m.get("name"): m for m in admin.get_idp_mappers(provider["alias"])}
            for mapper in identity_provider_mappers(spec):
                found += _object(f"identity-provider-mapper {mapper['name']}", mapper, mappers.get(mapper["name"]))
    return found


def _client(admin: KeycloakAdmin, wanted: dict) -> list[Difference]:
    name = f"client {wanted['clientId']}"
    client_uuid = admin.get_client_id(wanted["clientId"])
    if client_uuid is None:
        return [(name, "present", "absent")]
    settings = {key: value for key, value in wanted.items() if key != "protocolMappers"}
    found = _fields(name, settings, admin.get_client(client_uuid))
    mappers = {mapper["name"]: mapper for mapper in admin.get_mappers_from_client(client_uuid)}
    for mapper in wanted["protocolMappers"]:
        found += _object(f"{name} mapper {mapper['name']}", mapper, mappers.get(mapper["name"]))
    return found


def _object(name: str, wanted: dict, live: dict | None) -> list[Difference]:
    return [(name, "present", "absent")] if live is None else _fields(name, wanted, live)


def _fields(name: str, wanted: dict, live: dict) -> list[Difference]:
    return [(f"{name}.{key}", value, live.get(key)) for key, value in drift(wanted, live).items()]
