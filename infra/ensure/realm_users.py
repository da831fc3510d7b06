"""People in a tenant's realm, through the Keycloak admin API: add, list, disable, grant and revoke roles.

Rules the functions enforce before anything is written: personal accounts only (no generic names such as
`admin`), never two of the 三员 roles on one person nor the auditor with the system or security administrator
(`separation_conflict`, the rule the registry applies to tokens), a registrar bound to one institution, and TOTP
enrolment required of whoever holds an administrative role. Users are never deleted, only disabled.
"""
import re
import secrets
import string
import uuid
from dataclasses import dataclass

from keycloak import KeycloakAdmin

from infra.ensure import ProvisioningError
from infra.ensure.realm import CONFIGURE_TOTP, INSTITUTION_ATTRIBUTE, administrative_roles, staff_roles
from registry.security.permissions import Role, separation_conflict
from tenants import TenantSpec

# accounts that stand for no one in particular: grade 3 wants every action traced to one person
SHARED_ACCOUNT_NAMES = frozenset({"admin", "administrator", "root", "test", "guest", "demo", "user", "shared",
                                  "operator", "system", "public", "service", "default", "keycloak"})
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    enabled: bool
    roles: tuple[str, ...]
    institution_id: str | None
    required_actions: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "enabled": self.enabled, "roles": list(self.roles),
                "institution_id": self.institution_id, "required_actions": list(self.required_actions)}


def check_roles(spec: TenantSpec, roles: set[str], *, institution_id: str | None) -> None:
    """Refuse a role set the realm does not allow; nothing has been written when this raises."""
    unknown = sorted(roles - set(staff_roles(spec)))
    if unknown:
        raise ProvisioningError(f"unknown role {', '.join(unknown)} for an account of realm {spec.realm_name}; "
                                f"its roles: {', '.join(staff_roles(spec))} (citizens sign in through the "
                                "government-service identity)")
    separated = separation_conflict(roles)
    if separated:
        raise ProvisioningError(f"三员分立: {' and '.join(separated)} must never be held by one person; "
                                "nothing was changed")
    if Role.registrar.value in roles and not institution_id:
        raise ProvisioningError("a registrar is bound to one institution: give its institution id")


def add_user(admin: KeycloakAdmin, spec: TenantSpec, username: str, *, roles: set[str],
             institution_id: uuid.UUID | None = None, email: str | None = None, first_name: str | None = None,
             last_name: str | None = None) -> tuple[User, str | None]:
    """Create a personal account with a temporary password; (user, password) — password None if it existed.

    Adding a user that exists already changes nothing and returns no password: use `set_roles` for its roles.
    """
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise ProvisioningError(f"username {username!r}: 3-64 characters a-z 0-9 . _ -, starting with a letter")
    if username in SHARED_ACCOUNT_NAMES:
        raise ProvisioningError(f"username {username!r} names no one: accounts are personal (no default or "
                                "shared accounts)")
    institution = str(institution_id) if institution_id else None
    check_roles(spec, roles, institution_id=institution)
    existing = admin.get_user_id(username)
    if existing is not None:
        return find_user(admin, username), None
    if institution:
        _require_declared_institution(admin)
    representations = _role_representations(admin, roles)  # looked up before anything is written
    password = temporary_password()
    payload = {
        "username": username, "enabled": True, "emailVerified": False,
        # a temporary password: Keycloak makes the person choose their own at the first sign-in
        "credentials": [{"type": "password", "value": password, "temporary": True}],
        "requiredActions": _required_actions(spec, roles, []),
        "attributes": {INSTITUTION_ATTRIBUTE: [institution]} if institution else {},
    }
    payload.update({k: v for k, v in (("email", email), ("firstName", first_name), ("lastName", last_name)) if v})
    user_id = admin.create_user(payload)
    if representations:
        admin.assign_realm_roles(user_id, representations)
    return find_user(admin, username), password


def list_users(admin: KeycloakAdmin) -> list[User]:
    """Every user of the realm with its realm roles, by username."""
    return sorted((_user(admin, rep) for rep in admin.get_users({})), key=lambda user: user.username)


def find_user(admin: KeycloakAdmin, username: str) -> User:
    user_id = admin.get_user_id(username.strip().lower())
    if user_id is None:
        raise ProvisioningError(f"no user {username!r} in realm {admin.connection.realm_name}")
    return _user(admin, admin.get_user(user_id))


def disable_user(admin: KeycloakAdmin, username: str) -> tuple[User, str]:
    """Disable the account (never delete it: the audit trail keeps naming it); the outcome updated|unchanged."""
    user = find_user(admin, username)
    if not user.enabled:
        return user, "unchanged"
    admin.update_user(user.id, {"enabled": False})
    return find_user(admin, username), "updated"


def set_roles(admin: KeycloakAdmin, spec: TenantSpec, username: str, *, grant: set[str],
              revoke: set[str]) -> tuple[User, str]:
    """Grant and revoke realm roles; the resulting set is checked first, and nothing changes if it is refused."""
    user = find_user(admin, username)
    both = grant & revoke
    if both:
        raise ProvisioningError(f"both granted and revoked: {', '.join(sorted(both))}")
    current = set(user.roles)
    result = (current | grant) - revoke
    check_roles(spec, result, institution_id=user.institution_id)
    to_add, to_remove = sorted(grant - current), sorted(revoke & current)
    if not to_add and not to_remove:
        return user, "unchanged"
    actions = _required_actions(spec, result, list(user.required_actions))
    if set(actions) != set(user.required_actions):
        admin.update_user(user.id, {"requiredActions": actions})  # the second factor before the new power
    if to_add:
        admin.assign_realm_roles(user.id, _role_representations(admin, set(to_add)))
    if to_remove:
        admin.delete_realm_roles_of_user(user.id, _role_representations(admin, set(to_remove)))
    return find_user(admin, username), "updated"


def temporary_password(length: int = 20) -> str:
    """A random password meeting the realm's policy (all four character classes)."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%+-=?@^_")
    alphabet = "".join(classes)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(ch in chars for ch in password) for chars in classes):
            return password


def _required_actions(spec: TenantSpec, roles: set[str], current: list[str]) -> list[str]:
    # whoever holds an administrative role enrols TOTP; Keycloak's conditional-OTP flows then always ask for it
    if roles & set(administrative_roles(spec)) and CONFIGURE_TOTP not in current:
        return [*current, CONFIGURE_TOTP]
    return current


def _require_declared_institution(admin: KeycloakAdmin) -> None:
    declared = {attribute.get("name") for attribute in admin.get_realm_users_profile().get("attributes") or []}
    if INSTITUTION_ATTRIBUTE not in declared:
        raise ProvisioningError(f"realm {admin.connection.realm_name} does not declare the user attribute "
                                f"{INSTITUTION_ATTRIBUTE} (Keycloak would drop it): run `fsp sso apply` first")


def _role_representations(admin: KeycloakAdmin, names: set[str]) -> list[dict]:
    return [{"id": role["id"], "name": role["name"]} for role in admin.get_realm_roles()
            if role["name"] in names]


def _user(admin: KeycloakAdmin, rep: dict) -> User:
    roles = tuple(sorted(role["name"] for role in admin.get_realm_roles_of_user(rep["id"])
                         if role["name"] in {r.value for r in Role}))
    institution = (rep.get("attributes") or {}).get(INSTITUTION_ATTRIBUTE) or [None]
    return User(id=rep["id"], username=rep["username"], enabled=bool(rep.get("enabled")), roles=roles,
                institution_id=institution[0], required_actions=tuple(rep.get("requiredActions") or ()))
