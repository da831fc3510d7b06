"""The admin half of the Keycloak double: /admin/realms/..., each body checked against the admin API document."""
import copy
import json
import re
import uuid
from collections.abc import Callable

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kc_double.state import Realm, User

MASTER = "master"


def keycloak_error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"errorMessage": message, **extra}, status_code=status)


def _created(request: Request, object_id: str) -> Response:
    return Response(status_code=201, headers={"Location": f"{str(request.url).rstrip('/')}/{object_id}"})


class AdminEndpoints:
    """Mixed into KeycloakDouble: needs `realms`, `api`, `rejected` and `_issuer`."""

    def admin_routes(self) -> list[tuple[str, re.Pattern, Callable]]:
        return [
            (method, re.compile(f"^{pattern}/?$"), handler) for method, pattern, handler in (
                ("GET", r"", self._list_realms),
                ("POST", r"", self._create_realm),
                ("GET", r"/(?P<realm>[^/]+)", self._get_realm),
                ("PUT", r"/(?P<realm>[^/]+)", self._update_realm),
                ("DELETE", r"/(?P<realm>[^/]+)", self._delete_realm),
                ("GET", r"/(?P<realm>[^/]+)/authentication/required-actions", self._list_required_actions),
                ("PUT", r"/(?P<realm>[^/]+)/authentication/required-actions/(?P<alias>[^/]+)",
                 self._update_required_action),
                ("GET", r"/(?P<realm>[^/]+)/roles", self._list_roles),
                ("POST", r"/(?P<realm>[^/]+)/roles", self._create_role),
                ("GET", r"/(?P<realm>[^/]+)/roles/(?P<name>[^/]+)", self._get_role),
                ("PUT", r"/(?P<realm>[^/]+)/roles/(?P<name>[^/]+)", self._update_role),
                ("GET", r"/(?P<realm>[^/]+)/clients", self._list_clients),
                ("POST", r"/(?P<realm>[^/]+)/clients", self._create_client),
                ("GET", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)", self._get_client),
                ("PUT", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)", self._update_client),
                ("GET", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)/client-secret", self._client_secret),
                ("GET", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)/service-account-user", self._service_account),
                ("GET", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)/protocol-mappers/models", self._list_mappers),
                ("POST", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)/protocol-mappers/models", self._create_mapper),
                ("PUT", r"/(?P<realm>[^/]+)/clients/(?P<id>[^/]+)/protocol-mappers/models/(?P<mapper>[^/]+)",
                 self._update_mapper),
                ("GET", r"/(?P<realm>[^/]+)/identity-provider/instances", self._list_idps),
                ("POST", r"/(?P<realm>[^/]+)/identity-provider/instances", self._create_idp),
                ("GET", r"/(?P<realm>[^/]+)/identity-provider/instances/(?P<alias>[^/]+)", self._get_idp),
                ("PUT", r"/(?P<realm>[^/]+)/identity-provider/instances/(?P<alias>[^/]+)", self._update_idp),
                ("GET", r"/(?P<realm>[^/]+)/identity-provider/instances/(?P<alias>[^/]+)/mappers",
                 self._list_idp_mappers),
                ("POST", r"/(?P<realm>[^/]+)/identity-provider/instances/(?P<alias>[^/]+)/mappers",
                 self._create_idp_mapper),
                ("PUT", r"/(?P<realm>[^/]+)/identity-provider/instances/(?P<alias>[^/]+)/mappers/(?P<id>[^/]+)",
                 self._update_idp_mapper),
                ("GET", r"/(?P<realm>[^/]+)/users/profile", self._get_user_profile),
                ("PUT", r"/(?P<realm>[^/]+)/users/profile", self._update_user_profile),
                ("GET", r"/(?P<realm>[^/]+)/users", self._list_users),
                ("POST", r"/(?P<realm>[^/]+)/users", self._create_user),
                ("GET", r"/(?P<realm>[^/]+)/users/count", self._count_users),
                ("GET", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)", self._get_user),
                ("PUT", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)", self._update_user),
                ("PUT", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)/reset-password", self._reset_password),
                ("GET", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)/credentials", self._list_credentials),
                ("GET", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)/role-mappings/realm", self._user_roles),
                ("POST", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)/role-mappings/realm", self._add_user_roles),
                ("DELETE", r"/(?P<realm>[^/]+)/users/(?P<id>[^/]+)/role-mappings/realm", self._remove_user_roles),
            )]

    def _is_admin(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        master = self.realms[MASTER]
        try:
            claims = jwt.decode(header[7:], master.active_key.private.public_key(), algorithms=["RS256"],
                                issuer=self._issuer(request, MASTER), options={"verify_aud": False})
        except jwt.PyJWTError:
            return False
        user = master.users.get(claims["sub"])
        return user is not None and "admin" in user.roles and bool(user.rep.get("enabled"))

    async def admin(self, request: Request) -> Response:
        if not self._is_admin(request):
            return JSONResponse({"error": "HTTP 401 Unauthorized"}, status_code=401)
        path, method = request.path_params["path"], request.method
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return keycloak_error(400, "Unable to parse the request body as JSON")
        known, schema = self.api.find(method, path)
        if not known:
            return keycloak_error(404, f"HTTP 404 Not Found: {method} {path} is no admin API operation")
        problems = self.api.check_body(method, path, body) if raw else []
        if problems:
            self.rejected.append((method, path, problems))
            return keycloak_error(400, "Request body does not match the admin API", problems=problems)
        for route_method, pattern, handler in self._admin_routes:
            match = pattern.match(path)
            if route_method == method and match:
                params = match.groupdict()
                realm = None
                if "realm" in params and handler not in (self._create_realm,):
                    realm = self.realms.get(params.pop("realm"))
                    if realm is None:
                        return keycloak_error(404, "Realm not found.")
                return handler(request, realm, body, **params)
        return keycloak_error(501, f"the Keycloak double does not implement {method} {path}")

    def _list_realms(self, request, realm, body):
        return JSONResponse([copy.deepcopy(r.settings) for r in self.realms.values()])

    def _create_realm(self, request, realm, body):
        name = body.get("realm") if isinstance(body, dict) else None
        if not name:
            return keycloak_error(400, "Realm name cannot be empty")
        if name in self.realms:
            return keycloak_error(409, "Conflict detected. See logs for details")
        settings = {k: v for k, v in body.items() if k not in ("roles", "clients", "users", "requiredActions")}
        created = self.realms[name] = Realm(name, settings)
        for role in (body.get("roles") or {}).get("realm", []):
            created.roles[role["name"]] = {"id": str(uuid.uuid4()), "composite": False, "clientRole": False,
                                           "containerId": name, **role}
        for client in body.get("clients") or []:
            created.add_client(copy.deepcopy(client))
        return _created(request, name)

    def _get_realm(self, request, realm, body):
        return JSONResponse(copy.deepcopy(realm.settings))

    def _update_realm(self, request, realm, body):
        if body.get("realm", realm.name) != realm.name:
            return keycloak_error(400, "renaming a realm is not supported by the double")
        realm.settings.update({k: v for k, v in body.items() if k not in ("roles", "clients", "users", "id")})
        realm.admin_events.append({"operationType": "UPDATE", "resourcePath": "", "representation": body})
        return Response(status_code=204)

    def _delete_realm(self, request, realm, body):
        if realm.name == MASTER:
            return keycloak_error(400, "master realm cannot be removed")
        del self.realms[realm.name]
        return Response(status_code=204)

    def _list_required_actions(self, request, realm, body):
        return JSONResponse(sorted(realm.required_actions.values(), key=lambda a: a["priority"]))

    def _update_required_action(self, request, realm, body, alias):
        if alias not in realm.required_actions:
            return keycloak_error(404, "Failed to find required action")
        realm.required_actions[alias].update({k: v for k, v in body.items() if k in ("enabled", "defaultAction",
                                                                                      "priority", "config")})
        return Response(status_code=204)

    def _list_roles(self, request, realm, body):
        return JSONResponse([copy.deepcopy(role) for role in realm.roles.values()])

    def _create_role(self, request, realm, body):
        if body["name"] in realm.roles:
            return keycloak_error(409, f"Role with name {body['name']} already exists")
        realm.roles[body["name"]] = {"composite": False, "clientRole": False, **body, "id": str(uuid.uuid4()),
                                     "containerId": realm.name}
        return _created(request, body["name"])

    def _get_role(self, request, realm, body, name):
        role = realm.roles.get(name)
        return JSONResponse(copy.deepcopy(role)) if role else keycloak_error(404, "Could not find role")

    def _update_role(self, request, realm, body, name):
        if name not in realm.roles:
            return keycloak_error(404, "Could not find role")
        realm.roles[name].update({k: v for k, v in body.items() if k not in ("id", "name", "containerId")})
        return Response(status_code=204)

    def _list_clients(self, request, realm, body):
        wanted = request.query_params.get("clientId")
        return JSONResponse([copy.deepcopy(c) for c in realm.clients.values()
                             if wanted is None or c["clientId"] == wanted])

    def _create_client(self, request, realm, body):
        if realm.client_by_client_id(body.get("clientId", "")):
            return keycloak_error(409, f"Client {body['clientId']} already exists")
        client = realm.add_client(copy.deepcopy(body))
        return _created(request, client["id"])

    def _client(self, realm: Realm, client_id: str) -> dict | None:
        return realm.clients.get(client_id)

    def _get_client(self, request, realm, body, id):
        client = self._client(realm, id)
        return JSONResponse(copy.deepcopy(client)) if client else keycloak_error(404, "Could not find client")

    def _update_client(self, request, realm, body, id):
        client = self._client(realm, id)
        if client is None:
            return keycloak_error(404, "Could not find client")
        client.update({k: v for k, v in body.items() if k not in ("id", "protocolMappers")})
        if client.get("serviceAccountsEnabled") and not realm.user_by_name(f"service-account-{client['clientId']}"):
            realm.add_user({"username": f"service-account-{client['clientId']}", "enabled": True,
                            "serviceAccountClientId": client["clientId"]})
        return Response(status_code=204)

    def _client_secret(self, request, realm, body, id):
        if id not in realm.secrets:
            return keycloak_error(404, "Could not find client")
        return JSONResponse({"type": "secret", "value": realm.secrets[id]})

    def _service_account(self, request, realm, body, id):
        client = self._client(realm, id)
        user = client and realm.user_by_name(f"service-account-{client['clientId']}")
        return JSONResponse(copy.deepcopy(user.rep)) if user else keycloak_error(400, "Service account not enabled")

    def _list_mappers(self, request, realm, body, id):
        if id not in realm.mappers:
            return keycloak_error(404, "Could not find client")
        return JSONResponse([copy.deepcopy(m) for m in realm.mappers[id].values()])

    def _create_mapper(self, request, realm, body, id):
        if id not in realm.mappers:
            return keycloak_error(404, "Could not find client")
        if any(m["name"] == body.get("name") for m in realm.mappers[id].values()):
            return keycloak_error(409, "Protocol mapper exists with same name")
        return _created(request, realm.add_mapper(id, copy.deepcopy(body))["id"])

    def _update_mapper(self, request, realm, body, id, mapper):
        current = realm.mappers.get(id, {}).get(mapper)
        if current is None:
            return keycloak_error(404, "Model not found")
        current.update({k: v for k, v in body.items() if k != "id"})
        return Response(status_code=204)

    @staticmethod
    def _shown(provider: dict) -> dict:
        """As Keycloak shows a provider: its client secret masked, never given back."""
        shown = copy.deepcopy(provider)
        if "clientSecret" in shown.get("config", {}):
            shown["config"]["clientSecret"] = "**********"
        return shown

    def _list_idps(self, request, realm, body):
        return JSONResponse([self._shown(p) for p in realm.identity_providers.values()])

    def _create_idp(self, request, realm, body):
        alias = body.get("alias", "")
        if alias in realm.identity_providers:
            return keycloak_error(409, f"Identity Provider {alias} already exists")
        realm.identity_providers[alias] = {**copy.deepcopy(body), "internalId": str(uuid.uuid4())}
        realm.idp_mappers[alias] = {}
        return _created(request, alias)

    def _get_idp(self, request, realm, body, alias):
        provider = realm.identity_providers.get(alias)
        return JSONResponse(self._shown(provider)) if provider else keycloak_error(404, "Could not find identity provider")

    def _update_idp(self, request, realm, body, alias):
        provider = realm.identity_providers.get(alias)
        if provider is None:
            return keycloak_error(404, "Could not find identity provider")
        config = {**provider.get("config", {}), **body.get("config", {})}
        if config.get("clientSecret") == "**********":  # the mask sent back keeps the secret as it was
            config["clientSecret"] = provider.get("config", {}).get("clientSecret")
        provider.update({**{k: v for k, v in body.items() if k not in ("alias", "internalId")}, "config": config})
        return Response(status_code=204)

    def _list_idp_mappers(self, request, realm, body, alias):
        if alias not in realm.idp_mappers:
            return keycloak_error(404, "Could not find identity provider")
        return JSONResponse([copy.deepcopy(m) for m in realm.idp_mappers[alias].values()])

    def _create_idp_mapper(self, request, realm, body, alias):
        if alias not in realm.idp_mappers:
            return keycloak_error(404, "Could not find identity provider")
        mapper = {**copy.deepcopy(body), "id": str(uuid.uuid4())}
        realm.idp_mappers[alias][mapper["id"]] = mapper
        return _created(request, mapper["id"])

    def _update_idp_mapper(self, request, realm, body, alias, id):
        current = realm.idp_mappers.get(alias, {}).get(id)
        if current is None:
            return keycloak_error(404, "Could not find mapper")
        current.update({k: v for k, v in body.items() if k != "id"})
        return Response(status_code=204)

    def _list_users(self, request, realm, body):
        query = request.query_params
        users = sorted(realm.users.values(), key=lambda u: u.rep["username"])
        users = [u for u in users if not u.rep.get("serviceAccountClientId")]
        if "username" in query:
            name = query["username"].lower()
            exact = query.get("exact") == "true"
            users = [u for u in users if (u.rep["username"] == name if exact else name in u.rep["username"])]
        first, most = int(query.get("first", 0)), int(query.get("max", 100))
        return JSONResponse([copy.deepcopy(u.rep) for u in users[first:first + most]])

    def _get_user_profile(self, request, realm, body):
        return JSONResponse(copy.deepcopy(realm.user_profile))

    def _update_user_profile(self, request, realm, body):
        names = [attribute.get("name") for attribute in body.get("attributes") or []]
        if "username" not in names or "email" not in names:
            return keycloak_error(400, "The attributes username and email can not be removed")
        realm.user_profile = copy.deepcopy(body)
        return JSONResponse(copy.deepcopy(body))

    def _count_users(self, request, realm, body):
        return JSONResponse(sum(1 for u in realm.users.values() if not u.rep.get("serviceAccountClientId")))

    def _create_user(self, request, realm, body):
        if not body.get("username"):
            return keycloak_error(400, "User name is missing")
        if realm.user_by_name(body["username"]):
            return keycloak_error(409, "User exists with same username")
        probe = User(rep={"username": body["username"].lower()})
        for credential in body.get("credentials") or []:
            problem = realm.password_problem(probe, credential.get("value", ""))
            if problem:
                return keycloak_error(400, problem, error="invalidPassword")
        user = realm.add_user(copy.deepcopy(body))
        return _created(request, user.rep["id"])

    def _get_user(self, request, realm, body, id):
        user = realm.users.get(id)
        return JSONResponse(copy.deepcopy(user.rep)) if user else keycloak_error(404, "User not found")

    def _update_user(self, request, realm, body, id):
        user = realm.users.get(id)
        if user is None:
            return keycloak_error(404, "User not found")
        user.rep.update({k: v for k, v in body.items() if k not in ("id", "credentials", "username")})
        if "attributes" in body:
            user.rep["attributes"] = realm.managed_attributes(body["attributes"])
        return Response(status_code=204)

    def _reset_password(self, request, realm, body, id):
        user = realm.users.get(id)
        if user is None:
            return keycloak_error(404, "User not found")
        problem = realm.password_problem(user, body.get("value", ""))
        if problem:
            return keycloak_error(400, problem, error="invalidPassword")
        user.password = body["value"]
        actions = [a for a in user.rep.get("requiredActions", []) if a != "UPDATE_PASSWORD"]
        user.rep["requiredActions"] = actions + (["UPDATE_PASSWORD"] if body.get("temporary") else [])
        return Response(status_code=204)

    def _list_credentials(self, request, realm, body, id):
        user = realm.users.get(id)
        if user is None:
            return keycloak_error(404, "User not found")
        kinds = [kind for kind, held in (("password", user.password is not None), ("otp", user.otp_enrolled)) if held]
        return JSONResponse([{"id": f"{id}-{kind}", "type": kind, "userLabel": kind} for kind in kinds])

    def _user_roles(self, request, realm, body, id):
        user = realm.users.get(id)
        if user is None:
            return keycloak_error(404, "User not found")
        return JSONResponse([copy.deepcopy(realm.roles[name]) for name in sorted(user.roles) if name in realm.roles])

    def _mapped_roles(self, realm: Realm, body: list) -> list[str] | None:
        names = [role.get("name") for role in body]
        return names if all(name in realm.roles for name in names) else None

    def _add_user_roles(self, request, realm, body, id):
        user = realm.users.get(id)
        names = self._mapped_roles(realm, body or [])
        if user is None or names is None:
            return keycloak_error(404, "Could not find user or role")
        user.roles.update(names)
        return Response(status_code=204)

    def _remove_user_roles(self, request, realm, body, id):
        user = realm.users.get(id)
        names = self._mapped_roles(realm, body or [])
        if user is None or names is None:
            return keycloak_error(404, "Could not find user or role")
        user.roles.difference_update(names)
        return Response(status_code=204)
