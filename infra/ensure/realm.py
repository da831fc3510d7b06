"""A tenant's Keycloak realm as code: `desired_realm(spec)` declares it, `apply_realm(...)` converges a server to it.

The realm meets GB/T 22239-2019 grade 3: a strong password policy, brute-force lockout, a 15-minute idle timeout,
TOTP for every administrative role, login and admin events kept at least 180 days, and no default or shared
accounts (the realm declares no users at all). `apply_realm` creates what is missing and updates what differs,
object by object; it never deletes anything, users least of all. Besides the representation it declares the
`institution_id` attribute in the realm's user profile (a separate admin endpoint), without which Keycloak 24+
would drop a registrar's binding.

Citizens sign in through the province's government-service identity (`spec.sso.government_identity`), an
external OpenID Connect provider the realm brokers: it grants the `citizen` role and nothing else (a hardcoded-role
mapper), so nobody becomes staff by signing in there. Its client secret comes from the environment
(GOV_ID_SECRET_ENV), never from the catalog, and is neither logged nor kept in Pulumi's state in clear.
"""
import os
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakConnectionError, KeycloakError

from infra.ensure import Outcome, ProvisioningError, combine
from registry.security.permissions import ADMINISTRATIVE_ROLES, Role
from tenants import TenantSpec

API_CLIENT, PORTAL_CLIENT, CLI_CLIENT = "registry-api", "registry-portal", "fsp-cli"
INSTITUTION_ATTRIBUTE = "institution_id"
CONFIGURE_TOTP = "CONFIGURE_TOTP"
DAY = 86400

ROLE_DESCRIPTIONS = {
    Role.system_admin: "系统管理员: operates the system; never also security or audit administrator",
    Role.security_admin: "安全管理员: manages accounts and security; never also system or audit administrator",
    Role.audit_admin: "审计管理员: reviews the audit trail; never also system or security administrator",
    Role.provincial_admin: "Provincial administrator: institutions, fees and the province's directory",
    Role.registrar: "Registrar of one institution (user attribute institution_id)",
    Role.reviewer: "Reviewer: registers and archives cases, may disclose ID numbers (audited)",
    Role.auditor: "Auditor: reads the audit trail only",
    Role.ministry_operator: "Ministry operator: reads the national data exchange",
    Role.citizen: "Citizen (公众): online services for their own applications, bookings and complaints",
}
_SEPARATED = (Role.system_admin, Role.security_admin, Role.audit_admin)
PROVINCE_ROLES = (*_SEPARATED, Role.provincial_admin, Role.registrar, Role.reviewer, Role.auditor, Role.citizen)
MINISTRY_ROLES = (*_SEPARATED, Role.ministry_operator, Role.auditor)

# Keycloak's own policy syntax: 8+ characters of all four classes, not the username, 5 remembered, 90 days
PASSWORD_POLICY = ("length(8) and upperCase(1) and lowerCase(1) and digits(1) and specialChars(1) and notUsername "
                   "and passwordHistory(5) and forceExpiredPasswordChange(90)")
# declared in the user profile: Keycloak 24+ drops undeclared attributes; only administrators may see or set it
INSTITUTION_PROFILE_ATTRIBUTE = {
    "name": INSTITUTION_ATTRIBUTE, "displayName": "Institution",
    "validations": {"pattern": {"pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                                "error-message": "institution_id must be a UUID"}},
    "permissions": {"view": ["admin"], "edit": ["admin"]},
}
# required actions the realm relies on: TOTP enrolment for administrators, and changing a temporary password
REQUIRED_ACTIONS = {CONFIGURE_TOTP: "Configure OTP", "UPDATE_PASSWORD": "Update Password"}


def realm_roles(spec: TenantSpec) -> tuple[str, ...]:
    """The realm roles of this tenant: 三员 plus the province's or the ministry's working roles."""
    return tuple(role.value for role in (MINISTRY_ROLES if spec.kind == "ministry" else PROVINCE_ROLES))


def staff_roles(spec: TenantSpec) -> tuple[str, ...]:
    """The roles an account of the realm may be given: every realm role but the citizen's, which only the
    government-service identity grants (its mapper)."""
    return tuple(role for role in realm_roles(spec) if role != Role.citizen.value)


def administrative_roles(spec: TenantSpec) -> tuple[str, ...]:
    """The roles whose holders must enrol a second factor."""
    return tuple(role for role in realm_roles(spec) if role in ADMINISTRATIVE_ROLES)


def realm_settings(spec: TenantSpec) -> dict:
    """The realm's own settings (no roles, clients or users), in Keycloak's field names."""
    return {
        "realm": spec.realm_name,
        "enabled": True,
        "displayName": f"{spec.name_zh} 殡葬服务平台",
        # TLS terminates at the ingress; "external" still refuses plain HTTP from any non-private address
        "sslRequired": "external",
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "rememberMe": False,
        "editUsernameAllowed": False,
        "duplicateEmailsAllowed": False,
        "loginWithEmailAllowed": False,
        "passwordPolicy": PASSWORD_POLICY,
        "bruteForceProtected": True,
        "permanentLockout": False,
        "failureFactor": 5,
        # the first lock after 5 failures lasts waitIncrementSeconds: 15 minutes, growing to an hour
        "waitIncrementSeconds": 15 * 60,
        "maxFailureWaitSeconds": 60 * 60,
        "minimumQuickLoginWaitSeconds": 15 * 60,
        "quickLoginCheckMilliSeconds": 1000,
        "maxDeltaTimeSeconds": 12 * 3600,
        "ssoSessionIdleTimeout": 15 * 60,
        "ssoSessionMaxLifespan": 8 * 3600,
        "accessTokenLifespan": 5 * 60,
        "otpPolicyType": "totp",
        "otpPolicyDigits": 6,
        "otpPolicyPeriod": 30,
        "otpPolicyCodeReusable": False,
        "eventsEnabled": True,
        "eventsExpiration": max(180, spec.audit_retention_days) * DAY,
        "eventsListeners": ["jboss-logging"],
        "adminEventsEnabled": True,
        "adminEventsDetailsEnabled": True,
    }


def _mappers() -> list[dict]:
    """Every client's tokens are meant for the registry API and say which institution a registrar is bound to."""
    return [
        {"name": "audience registry-api", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
         "consentRequired": False,
         "config": {"included.client.audience": API_CLIENT, "access.token.claim": "true", "id.token.claim": "false"}},
        {"name": INSTITUTION_ATTRIBUTE, "protocol": "openid-connect",
         "protocolMapper": "oidc-usermodel-attribute-mapper", "consentRequired": False,
         "config": {"user.attribute": INSTITUTION_ATTRIBUTE, "claim.name": INSTITUTION_ATTRIBUTE,
                    "jsonType.label": "String", "multivalued": "false", "access.token.claim": "true",
                    "id.token.claim": "false", "userinfo.token.claim": "true"}},
    ]


def realm_clients(spec: TenantSpec) -> list[dict]:
    """registry-api (confidential, service account for the exchange worker), registry-portal (public, PKCE), fsp-cli."""
    common = {"enabled": True, "protocol": "openid-connect", "implicitFlowEnabled": False, "consentRequired": False,
              "fullScopeAllowed": True, "frontchannelLogout": True}
    return [
        {**common, "clientId": API_CLIENT, "name": "Registry API", "publicClient": False, "bearerOnly": False,
         "clientAuthenticatorType": "client-secret", "serviceAccountsEnabled": True, "standardFlowEnabled": False,
         "directAccessGrantsEnabled": False, "protocolMappers": _mappers()},
        {**common, "clientId": PORTAL_CLIENT, "name": "Registry portal", "publicClient": True, "bearerOnly": False,
         "standardFlowEnabled": True, "directAccessGrantsEnabled": False, "serviceAccountsEnabled": False,
         # the workbench's sign-in callback, exactly (no wildcard): relative to the portal's rootUrl, which the
         # deployment sets; on its own host (Kubernetes) or under /<slug> of a server holding many (`fsp serve`)
         # 我的办事's (citizens') callback likewise
         "redirectUris": ["/workbench/callback", f"/{spec.slug}/workbench/callback", "/my/callback",
                          f"/{spec.slug}/my/callback"], "webOrigins": ["+"],
         "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
         "protocolMappers": _mappers()},
        # the command line signs in with username, password and TOTP code (or the device flow)
        {**common, "clientId": CLI_CLIENT, "name": "fsp command line", "publicClient": True, "bearerOnly": False,
         "standardFlowEnabled": False, "directAccessGrantsEnabled": True, "serviceAccountsEnabled": False,
         "oauth2DeviceAuthorizationGrantEnabled": True, "protocolMappers": _mappers()},
    ]


# --- the government-service identity citizens sign in with ----------------------------------------------------------

GOV_ID_SECRET_ENV = "FSP_GOV_ID_CLIENT_SECRET"
# Keycloak's built-in flow for a first sign-in through a provider: an account is made for the person
FIRST_LOGIN_FLOW = "first broker login"
CITIZEN_MAPPER = "citizen role"


def government_identity_secret() -> str | None:
    """The client secret the realm presents to the government-service identity, from the control plane's
    environment (its secret store puts it there), never from the catalog."""
    return os.environ.get(GOV_ID_SECRET_ENV) or None


def identity_provider(spec: TenantSpec) -> dict | None:
    """The realm's OIDC identity provider for citizens, without its secret; None when the tenant has none."""
    gov = spec.sso.government_identity
    if gov is None:
        return None
    config = {"issuer": str(gov.issuer).rstrip("/"), "authorizationUrl": str(gov.authorization_url),
              "tokenUrl": str(gov.token_url), "jwksUrl": str(gov.jwks_url), "useJwksUrl": "true",
              "validateSignature": "true", "clientId": gov.client_id, "clientAuthMethod": "client_secret_post",
              "pkceEnabled": "true", "pkceMethod": "S256", "defaultScope": "openid", "syncMode": "FORCE"}
    if gov.logout_url:
        config["logoutUrl"] = str(gov.logout_url)
    return {"alias": gov.alias, "displayName": gov.display_name, "providerId": "oidc", "enabled": True,
            "trustEmail": False, "storeToken": False, "addReadTokenRoleOnCreate": False, "linkOnly": False,
            "firstBrokerLoginFlowAlias": FIRST_LOGIN_FLOW, "config": config}


def identity_provider_mappers(spec: TenantSpec) -> list[dict]:
    """Whoever signs in through the government-service identity is a citizen, and only that."""
    gov = spec.sso.government_identity
    if gov is None:
        return []
    return [{"name": CITIZEN_MAPPER, "identityProviderAlias": gov.alias,
             "identityProviderMapper": "oidc-hardcoded-role-idp-mapper",
             "config": {"role": Role.citizen.value, "syncMode": "FORCE"}}]


def desired_realm(spec: TenantSpec) -> dict:
    """The Keycloak realm representation of the tenant: settings, realm roles, clients, required actions."""
    return {
        **realm_settings(spec),
        "roles": {"realm": [{"name": name, "description": ROLE_DESCRIPTIONS[Role(name)], "composite": False}
                            for name in realm_roles(spec)]},
        "clients": realm_clients(spec),
        "requiredActions": [{"alias": alias, "name": name, "providerId": alias, "enabled": True,
                             "defaultAction": False} for alias, name in REQUIRED_ACTIONS.items()],
        "identityProviders": [provider for provider in (identity_provider(spec),) if provider],
        "identityProviderMappers": identity_provider_mappers(spec),
    }


# --- applying ----------------------------------------------------------------------------------------------------


@contextmanager
def keycloak_errors(server_url: str) -> Iterator[None]:
    """Keycloak and network failures become one-line ProvisioningErrors (no secrets, no tracebacks)."""
    try:
        yield
    except KeycloakConnectionError:
        raise ProvisioningError(f"cannot reach Keycloak at {server_url}") from None
    except KeycloakAuthenticationError:
        raise ProvisioningError(f"Keycloak at {server_url} refused the admin credentials") from None
    except KeycloakError as exc:
        detail = exc.error_message.decode(errors="replace") if isinstance(exc.error_message, bytes) \
            else str(exc.error_message)
        raise ProvisioningError(f"Keycloak at {server_url} answered {exc.response_code}: {detail[:300]}") from None
    except requests.RequestException as exc:
        raise ProvisioningError(f"cannot reach Keycloak at {server_url}: {type(exc).__name__}") from None


def connect(server_url: str, admin_username: str, admin_password: str, realm: str) -> KeycloakAdmin:
    """An admin client signed in to the master realm, working on `realm`."""
    admin = KeycloakAdmin(server_url=server_url, username=admin_username, password=admin_password,
                          realm_name=realm, user_realm_name="master", timeout=30)
    with keycloak_errors(server_url):
        admin.connection.get_token()  # fail here, clearly, rather than on the first call
    return admin


def apply_realm(server_url: str, admin_username: str, admin_password: str, spec: TenantSpec, *,
                identity_secret: str | None = None) -> list[tuple[str, str]]:
    """Converge the tenant's realm on the server; (object name, created|updated|unchanged) per object.
    `identity_secret`: the government-service identity's client secret, needed when the tenant has one."""
    provider = identity_provider(spec)
    if provider is not None and not identity_secret:
        raise ProvisioningError(f"{spec.slug} brokers the government-service identity {provider['alias']}: set "
                                f"{GOV_ID_SECRET_ENV} to its client secret")
    admin = connect(server_url, admin_username, admin_password, spec.realm_name)
    with keycloak_errors(server_url):
        results = [("realm", _ensure_realm(admin, spec))]
        results += [(f"required-action {alias}", _ensure_required_action(admin, alias, name))
                    for alias, name in REQUIRED_ACTIONS.items()]
        results.append((f"user-profile {INSTITUTION_ATTRIBUTE}", _ensure_profile_attribute(admin)))
        results += [(f"role {name}", _ensure_role(admin, name)) for name in realm_roles(spec)]
        results += [(f"client {client['clientId']}", _ensure_client(admin, client)) for client in realm_clients(spec)]
        if provider is not None:
            results.append((f"identity-provider {provider['alias']}",
                            _ensure_identity_provider(admin, provider, identity_secret)))
            results += [(f"identity-provider-mapper {mapper['name']}", _ensure_idp_mapper(admin, mapper))
                        for mapper in identity_provider_mappers(spec)]
    return results


def identity_provider_status(spec: TenantSpec) -> str:
    """What a tenant's status says about citizens' sign-in."""
    gov = spec.sso.government_identity
    if gov is None:
        return "none configured: citizens cannot sign in" if spec.sso.provider == "keycloak" else \
            "development sign-in (no realm)"
    return f"{gov.alias} ({gov.issuer})"


def realm_outcome(results: list[tuple[str, str]]) -> Outcome:
    """One outcome for the whole realm: created when the realm itself was, else as its objects combine."""
    if results and results[0] == ("realm", "created"):
        return "created"
    return combine(outcome for _, outcome in results)


def _ensure_realm(admin: KeycloakAdmin, spec: TenantSpec) -> Outcome:
    wanted = realm_settings(spec)
    if spec.realm_name not in {realm["realm"] for realm in admin.get_realms()}:
        admin.create_realm(wanted)
        return "created"
    differing = drift(wanted, admin.get_realm(spec.realm_name))
    if not differing:
        return "unchanged"
    admin.update_realm(spec.realm_name, {"realm": spec.realm_name, **differing})
    return "updated"


def _ensure_required_action(admin: KeycloakAdmin, alias: str, name: str) -> Outcome:
    current = next((a for a in admin.get_required_actions() if a.get("alias") == alias), None)
    if current is None:
        raise ProvisioningError(f"Keycloak has no required action {alias}; is the realm's provider disabled?")
    if current.get("enabled"):
        return "unchanged"
    admin.update_required_action(alias, {**current, "enabled": True, "name": current.get("name", name)})
    return "updated"


def _ensure_profile_attribute(admin: KeycloakAdmin) -> Outcome:
    profile = admin.get_realm_users_profile()
    attributes = profile.get("attributes") or []
    current = next((a for a in attributes if a.get("name") == INSTITUTION_ATTRIBUTE), None)
    if current is not None and not drift(INSTITUTION_PROFILE_ATTRIBUTE, current):
        return "unchanged"
    others = [a for a in attributes if a.get("name") != INSTITUTION_ATTRIBUTE]
    admin.update_realm_users_profile({**profile, "attributes": [*others, INSTITUTION_PROFILE_ATTRIBUTE]})
    return "created" if current is None else "updated"


def _ensure_role(admin: KeycloakAdmin, name: str) -> Outcome:
    wanted = {"name": name, "description": ROLE_DESCRIPTIONS[Role(name)], "composite": False}
    existing = {role["name"]: role for role in admin.get_realm_roles(brief_representation=False)}
    if name not in existing:
        admin.create_realm_role(wanted)
        return "created"
    if not drift({"description": wanted["description"]}, existing[name]):
        return "unchanged"
    admin.update_realm_role(name, {**existing[name], "description": wanted["description"]})
    return "updated"


def _ensure_client(admin: KeycloakAdmin, wanted: dict) -> Outcome:
    client_uuid = admin.get_client_id(wanted["clientId"])
    if client_uuid is None:
        admin.create_client(wanted)
        return "created"
    settings = {key: value for key, value in wanted.items() if key != "protocolMappers"}
    outcomes: list[Outcome] = ["unchanged"]
    differing = drift(settings, admin.get_client(client_uuid))
    if differing:
        current = admin.get_client(client_uuid)
        attributes = {**current.get("attributes", {}), **wanted.get("attributes", {})}
        admin.update_client(client_uuid, {**current, **differing, "attributes": attributes})
        outcomes.append("updated")
    mappers = {mapper["name"]: mapper for mapper in admin.get_mappers_from_client(client_uuid)}
    for mapper in wanted["protocolMappers"]:
        present = mappers.get(mapper["name"])
        if present is None:
            admin.add_mapper_to_client(client_uuid, mapper)
            outcomes.append("updated")
        elif drift(mapper, present):
            admin.update_client_mapper(client_uuid, present["id"], {**mapper, "id": present["id"]})
            outcomes.append("updated")
    return combine(outcomes)


def _ensure_identity_provider(admin: KeycloakAdmin, wanted: dict, secret: str) -> Outcome:
    """Created with its secret; updated (secret included) when a setting differs. Keycloak never shows the secret
    back, so a rotated secret alone is not seen here: it is set again with the next change of a setting."""
    with_secret = {**wanted, "config": {**wanted["config"], "clientSecret": secret}}
    current = next((p for p in admin.get_idps() if p.get("alias") == wanted["alias"]), None)
    if current is None:
        admin.create_idp(with_secret)
        return "created"
    if not drift(wanted, current):
        return "unchanged"
    admin.update_idp(wanted["alias"], {**current, **with_secret, "config": {**current.get("config", {}),
                                                                           **with_secret["config"]}})
    return "updated"


def _ensure_idp_mapper(admin: KeycloakAdmin, wanted: dict) -> Outcome:
    alias = wanted["identityProviderAlias"]
    current = next((m for m in admin.get_idp_mappers(alias) if m.get("name") == wanted["name"]), None)
    if current is None:
        admin.add_mapper_to_idp(alias, wanted)
        return "created"
    if not drift(wanted, current):
        return "unchanged"
    admin.update_mapper_in_idp(alias, current["id"], {**wanted, "id": current["id"]})
    return "updated"


def drift(wanted: dict, actual: dict) -> dict:
    """The wanted fields whose value differs on the server (dicts compared key by key, lists as sets)."""
    return {key: value for key, value in wanted.items() if not _same(value, actual.get(key))}


def _same(wanted: object, actual: object) -> bool:
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(_same(v, actual.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and sorted(map(str, wanted)) == sorted(map(str, actual))
    return wanted == actual
