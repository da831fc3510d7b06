"""What the Keycloak double remembers: realms with their keys, roles, clients, mappers, users and credentials."""
import copy
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

# what a new realm starts with, as in Keycloak (defaults the double needs; real Keycloak has many more)
REALM_DEFAULTS = {"enabled": True, "sslRequired": "external", "accessTokenLifespan": 300,
                  "ssoSessionIdleTimeout": 1800, "bruteForceProtected": False, "failureFactor": 30,
                  "permanentLockout": False, "eventsEnabled": False, "adminEventsEnabled": False,
                  "adminEventsDetailsEnabled": False, "passwordPolicy": None}
# Keycloak 24+'s default user profile; attributes it does not declare are dropped (unmanaged attributes off)
DEFAULT_USER_PROFILE = {"attributes": [
    {"name": "username", "displayName": "${username}", "permissions": {"view": ["admin", "user"], "edit": ["admin"]}},
    {"name": "email", "displayName": "${email}", "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]}},
    {"name": "firstName", "displayName": "${firstName}", "permissions": {"view": ["admin", "user"],
                                                                        "edit": ["admin", "user"]}},
    {"name": "lastName", "displayName": "${lastName}", "permissions": {"view": ["admin", "user"],
                                                                      "edit": ["admin", "user"]}},
], "groups": [{"name": "user-metadata", "displayHeader": "User metadata"}]}
DEFAULT_REQUIRED_ACTIONS = [("CONFIGURE_TOTP", "Configure OTP", 10),
                            ("TERMS_AND_CONDITIONS", "Terms and Conditions", 20),
                            ("UPDATE_PASSWORD", "Update Password", 30), ("UPDATE_PROFILE", "Update Profile", 40),
                            ("VERIFY_EMAIL", "Verify Email", 50)]


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> "SigningKey":
        return cls(kid=secrets.token_hex(8), private=rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class User:
    rep: dict
    password: str | None = None
    roles: set[str] = field(default_factory=set)
    failures: int = 0
    otp_enrolled: bool = False  # a test hook: the person has set up their authenticator app


@dataclass
class Realm:
    name: str
    settings: dict
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.new()])
    roles: dict[str, dict] = field(default_factory=dict)
    clients: dict[str, dict] = field(default_factory=dict)  # by internal id
    secrets: dict[str, str] = field(default_factory=dict)  # client internal id -> secret
    mappers: dict[str, dict[str, dict]] = field(default_factory=dict)  # client id -> mapper id -> mapper
    users: dict[str, User] = field(default_factory=dict)
    required_actions: dict[str, dict] = field(default_factory=dict)
    admin_events: list[dict] = field(default_factory=list)
    user_profile: dict = field(default_factory=lambda: copy.deepcopy(DEFAULT_USER_PROFILE))
    identity_providers: dict[str, dict] = field(default_factory=dict)  # by alias; config.clientSecret as given
    idp_mappers: dict[str, dict[str, dict]] = field(default_factory=dict)  # alias -> mapper id -> mapper

    def __post_init__(self) -> None:
        self.settings = {**REALM_DEFAULTS, **self.settings, "realm": self.name,
                         "id": self.settings.get("id", self.name)}
        default_role = f"default-roles-{self.name}"
        self.roles.setdefault(default_role, {"id": str(uuid.uuid4()), "name": default_role, "composite": True,
                                             "clientRole": False, "containerId": self.name})
        for alias, name, priority in DEFAULT_REQUIRED_ACTIONS:
            self.required_actions[alias] = {"alias": alias, "name": name, "providerId": alias, "enabled": True,
                                            "defaultAction": False, "priority": priority, "config": {}}

    @property
    def active_key(self) -> SigningKey:
        return self.keys[-1]

    def client_by_client_id(self, client_id: str) -> dict | None:
        return next((c for c in self.clients.values() if c["clientId"] == client_id), None)

    def user_by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.rep["username"] == username.lower()), None)

    def add_client(self, rep: dict) -> dict:
        client_uuid = str(uuid.uuid4())
        mappers = rep.pop("protocolMappers", None) or []
        client = {"id": client_uuid, "enabled": True, "publicClient": False, "bearerOnly": False,
                  "standardFlowEnabled": True, "directAccessGrantsEnabled": False, "serviceAccountsEnabled": False,
                  "protocol": "openid-connect", "attributes": {}, "redirectUris": [], "webOrigins": [], **rep,
                  "id": client_uuid}  # noqa: F601 (the id is the server's, whatever the body said)
        self.clients[client_uuid] = client
        self.mappers[client_uuid] = {}
        for mapper in mappers:
            self.add_mapper(client_uuid, mapper)
        if not client["publicClient"]:
            self.secrets[client_uuid] = rep.get("secret") or secrets.token_urlsafe(24)
        if client.get("serviceAccountsEnabled"):
            self.add_user({"username": f"service-account-{client['clientId']}", "enabled": True,
                           "serviceAccountClientId": client["clientId"]})
        return client

    def add_mapper(self, client_uuid: str, rep: dict) -> dict:
        mapper = {**rep, "id": str(uuid.uuid4())}
        self.mappers[client_uuid][mapper["id"]] = mapper
        return mapper

    def managed_attributes(self, attributes: dict | None) -> dict:
        """The attributes the user profile declares; Keycloak silently drops the others."""
        declared = {attribute["name"] for attribute in self.user_profile.get("attributes", [])}
        return {name: values for name, values in (attributes or {}).items() if name in declared}

    def add_user(self, rep: dict) -> User:
        user_id = str(uuid.uuid4())
        credentials = rep.pop("credentials", None) or []
        rep["attributes"] = self.managed_attributes(rep.get("attributes"))
        user = User(rep={"id": user_id, "createdTimestamp": int(time.time() * 1000), "enabled": False,
                         "emailVerified": False, "attributes": {}, "requiredActions": [], **rep,
                         "id": user_id,  # noqa: F601 (the id is the server's, whatever the body said)
                         "username": rep["username"].lower()},
                    roles={f"default-roles-{self.name}"})
        for credential in credentials:
            if credential.get("type") == "password":
                user.password = credential["value"]
                if credential.get("temporary"):
                    user.rep["requiredActions"] = [*user.rep["requiredActions"], "UPDATE_PASSWORD"]
        self.users[user_id] = user
        return user

    def sign(self, claims: dict, *, key: SigningKey | None = None) -> str:
        key = key or self.active_key
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})

    def password_problem(self, user: User, password: str) -> str | None:
        """The first rule of the realm's password policy that `password` breaks (Keycloak's message)."""
        policy = self.settings.get("passwordPolicy") or ""
        for name, argument in re.findall(r"(\w+)(?:\(([^)]*)\))?", policy):
            if name == "and":
                continue
            count = int(argument) if argument.isdigit() else 1
            checks = {
                "length": len(password) >= count,
                "upperCase": sum(ch.isupper() for ch in password) >= count,
                "lowerCase": sum(ch.islower() for ch in password) >= count,
                "digits": sum(ch.isdigit() for ch in password) >= count,
                "specialChars": sum(not ch.isalnum() for ch in password) >= count,
                "notUsername": password.lower() != user.rep["username"],
            }
            if not checks.get(name, True):
                return f"invalidPassword{name[0].upper()}{name[1:]}Message"
        return None
