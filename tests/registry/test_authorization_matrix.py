"""Who may do what: every role × every operation × own institution, another institution, another tenant.

The one place that says it. No cell is written by hand: the answer is derived from the permission table
(`ROLE_PERMISSIONS`, `INSTITUTION_BOUND`) and the two declared tables below, which say what each route needs
(OPERATIONS) and what an institution-bound role gets on another institution's target (OTHER_INSTITUTION):

- a public route answers everyone, whatever the token;
- a token of another tenant's issuer is 401;
- a role without the route's permission is 403;
- an institution-bound role on another institution's target gets OTHER_INSTITUTION's answer (a case is hidden:
  404, exactly like a case that does not exist);
- anything else succeeds (the route's own 200 or 201).

Every target is in the state the operation needs, so a refusal can only come from authorisation. A route of the
app missing from OPERATIONS fails the test. Data is built once per backend; a target an operation used up (a
case it cremated) is built again for the next caller.
"""
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from assertions import last_audit
from factories import case_payload, create_publication, institution_payload, publication_payload
from registry.security import crypto
from registry.security.auth import DevelopmentIssuer
from registry.security.permissions import INSTITUTION_BOUND, ROLE_PERMISSIONS, Permission, Role

P = Permission
SCOPES = ("own_institution", "other_institution", "other_tenant")
ROLES: tuple[Role | None, ...] = (*Role, None)  # None: a valid token without any role of this application
_serial = itertools.count(1)


@dataclass(frozen=True)
class Operation:
    permission: Permission | None  # None: public
    target: str  # what the request acts on, built by World._prepare: "none", "institution", a case's state, or a
    # publication's ("publication_draft", "publication_published")


CASE = "/api/v1/cases/{case_id}"
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/healthz"): Operation(None, "none"),
    ("GET", "/readyz"): Operation(None, "none"),
    ("GET", "/metrics"): Operation(None, "none"),
    ("GET", "/.well-known/jwks.json"): Operation(None, "none"),
    ("GET", "/.well-known/fsp-certificate-key"): Operation(None, "none"),
    ("POST", "/api/v1/certificate-verifications"): Operation(None, "none"),
    ("GET", "/api/v1/certificates/{certificate_id}"): Operation(P.cases_read, "certified"),
    ("GET", "/api/v1/openapi.json"): Operation(None, "none"),
    ("GET", "/api/v1/docs"): Operation(None, "none"),
    ("GET", "/docs/oauth2-redirect"): Operation(None, "none"),
    ("GET", "/api/v1/institutions"): Operation(None, "none"),
    ("POST", "/api/v1/institutions"): Operation(P.institutions_write, "none"),
    ("GET", "/api/v1/institutions/{institution_id}"): Operation(None, "institution"),
    ("PATCH", "/api/v1/institutions/{institution_id}"): Operation(P.institutions_write, "institution"),
    ("GET", "/api/v1/institutions/{institution_id}/service-items"): Operation(None, "institution"),
    ("POST", "/api/v1/institutions/{institution_id}/service-items"): Operation(P.institutions_write, "institution"),
    ("POST", "/api/v1/institutions/{institution_id}/service-items/{item_id}/end"): Operation(
        P.institutions_write, "priced"),
    ("GET", "/api/v1/institutions/{institution_id}/disclosure"): Operation(None, "institution"),
    ("PUT", "/api/v1/institutions/{institution_id}/disclosure"): Operation(P.institutions_write, "institution"),
    ("GET", "/api/v1/publications"): Operation(None, "none"),
    ("POST", "/api/v1/publications"): Operation(P.publications_write, "none"),
    ("GET", "/api/v1/publications/all"): Operation(P.publications_write, "none"),
    ("GET", "/api/v1/publications/all/{publication_id}"): Operation(P.publications_write, "publication_draft"),
    ("GET", "/api/v1/publications/{publication_id}"): Operation(None, "publication_published"),
    ("PATCH", "/api/v1/publications/{publication_id}"): Operation(P.publications_write, "publication_published"),
    ("POST", "/api/v1/publications/{publication_id}/publish"): Operation(P.publications_write, "publication_draft"),
    ("POST", "/api/v1/publications/{publication_id}/withdraw"): Operation(
        P.publications_write, "publication_published"),
    ("POST", "/api/v1/cases"): Operation(P.cases_write, "institution"),
    ("POST", "/api/v1/cases/imports"): Operation(P.cases_import, "institution"),
    ("GET", "/api/v1/cases"): Operation(P.cases_read, "declared"),
    ("POST", "/api/v1/cases/search"): Operation(P.cases_read, "declared"),
    ("GET", CASE): Operation(P.cases_read, "declared"),
    ("GET", f"{CASE}/id-number"): Operation(P.personal_data_read, "declared"),
    ("POST", f"{CASE}/corrections"): Operation(P.cases_write, "declared"),
    ("GET", f"{CASE}/corrections"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/register"): Operation(P.cases_review, "declared"),
    ("POST", f"{CASE}/close"): Operation(P.cases_write, "cremated"),
    ("POST", f"{CASE}/archive"): Operation(P.cases_review, "closed"),
    ("POST", f"{CASE}/cremation"): Operation(P.cremations_write, "registered"),
    ("GET", f"{CASE}/cremation"): Operation(P.cases_read, "cremated"),
    ("GET", f"{CASE}/certificates"): Operation(P.cases_read, "cremated"),
    ("POST", f"{CASE}/certificates"): Operation(P.cremations_write, "cremated"),
    ("POST", f"{CASE}/certificates/reissue"): Operation(P.cremations_write, "certified"),
    ("POST", f"{CASE}/certificates/cancel"): Operation(P.cremations_write, "certified"),
    ("POST", f"{CASE}/transports"): Operation(P.remains_write, "declared"),
    ("GET", f"{CASE}/transports"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/storages"): Operation(P.remains_write, "declared"),
    ("GET", f"{CASE}/storages"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/storages/{{storage_id}}/release"): Operation(P.remains_write, "stored"),
    ("POST", f"{CASE}/ashes-destination"): Operation(P.remains_write, "cremated"),
    ("GET", f"{CASE}/ashes-destination"): Operation(P.cases_read, "handed_over"),
    ("GET", f"{CASE}/handover"): Operation(P.cases_read, "handed_over"),
    ("POST", f"{CASE}/interments"): Operation(P.remains_write, "cremated"),
    ("GET", f"{CASE}/interments"): Operation(P.cases_read, "cremated"),
    ("GET", "/api/v1/audit"): Operation(P.audit_read, "none"),
    ("GET", "/api/v1/audit/verify"): Operation(P.audit_read, "none"),
    ("GET", "/api/v1/outbox"): Operation(P.outbox_read, "none"),
}
# the ministry's registry has these routes besides the province's; the national database is empty here, so a read
# of one case finds nothing (404) where the role may read it
NATIONAL = "/api/v1/national"
MINISTRY_OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", f"{NATIONAL}/cases"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/cases/{{province}}/{{case_id}}"): Operation(P.national_read, "unknown case"),
    ("GET", f"{NATIONAL}/matches"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/institutions"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/statistics/{{metric}}"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/statistics/{{metric}}/export"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/indicators"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/completeness"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/completeness/export"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/kpis"): Operation(P.national_read, "a year"),
    # signed by a province's exchange key, not a token: tests/exchange/test_receive.py
    ("POST", "/api/v1/exchange/batches"): Operation(None, "signed batch"),
}
LISTED_NOTHING = "200, listing nothing"
# what an institution-bound role gets on another institution's target: a case is hidden like one that does not
# exist; declaring for another institution is refused; the listing of another institution's cases is empty
OTHER_INSTITUTION: dict[tuple[str, str], int | str] = {
    **{key: 404 for key in OPERATIONS if "{case_id}" in key[1] or "{certificate_id}" in key[1]},
    ("POST", "/api/v1/cases"): 403,
    ("GET", "/api/v1/cases"): LISTED_NOTHING,
    ("POST", "/api/v1/cases/search"): LISTED_NOTHING,
}


def expected(role: Role | None, key: tuple[str, str], scope: str, success: int) -> int | str:
    """The answer the permission table gives `role` for the operation in `scope`."""
    operation = OPERATIONS[key]
    if operation.permission is None:
        return success
    if scope == "other_tenant":
        return 401
    if role is None or operation.permission not in ROLE_PERMISSIONS[role]:
        return 403
    if scope == "other_institution" and role in INSTITUTION_BOUND and key in OTHER_INSTITUTION:
        return OTHER_INSTITUTION[key]
    return success


def app_routes(app) -> Iterator[tuple[str, str, int]]:
    """(method, path template, success status) of every route, through included routers."""
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.120)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Mount):
                assert isinstance(route.app, StaticFiles), f"a mounted app the matrix does not know: {route.path}"
                continue  # the API docs' own static files: public, no token, nothing to authorise
            else:
                path = re.sub(r"\{(\w+):\w+\}", r"{\1}", prefix + route.path)  # {case_id:uuid} is {case_id}
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, path, getattr(route, "status_code", None) or 200

    return walk(app.routes)


class World:
    """Two funeral homes (`own` and `other`) with cases in every state, a columbarium, and who builds them."""

    def __init__(self, client: TestClient, app):
        self.client, self.issuer = client, app.state.ctx.issuer
        self.admin = self.headers(Role.provincial_admin)
        self.reviewer = self.headers(Role.reviewer)
        self.institutions = {name: self._created("/api/v1/institutions", institution_payload(), self.admin)
                             for name in ("own", "other")}
        self.columbarium = self._created("/api/v1/institutions", institution_payload(type="columbarium"), self.admin)
        self.registrars = {name: self.headers(Role.registrar, institution["id"])
                           for name, institution in self.institutions.items()}
        self._prepared: dict[tuple, tuple[str, dict | None]] = {}
        self._certificate: dict | None = None

    def certificate_check(self) -> dict:
        """A real certificate's number and check code: wrong guesses from one client would soon be limited."""
        if self._certificate is None:
            self._certificate = self.case("own", "certified")["certificate"]
        return {"number": self._certificate["number"], "check_code": self._certificate["check_code"]}

    def headers(self, role: Role | None, institution_id: str | None = None, issuer: DevelopmentIssuer | None = None,
                ) -> dict[str, str]:
        roles = [role.value] if role else ["offline_access"]
        token = (issuer or self.issuer).mint(f"matrix-{role}", roles,
                                             institution_id=uuid.UUID(institution_id) if institution_id else None)
        return {"Authorization": f"Bearer {token}"}

    def _created(self, path: str, body: dict | None, headers: dict, method: str = "POST") -> dict:
        response = self.client.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    def case(self, name: str, state: str) -> dict:
        """A new case of institution `name` brought to `state`."""
        institution, registrar = self.institutions[name], self.registrars[name]
        case = self._created("/api/v1/cases", case_payload(institution["id"]), registrar)
        path = f"/api/v1/cases/{case['id']}"
        steps = {"declared": [], "stored": ["storage"], "registered": ["register"],
                 "cremated": ["register", "cremate"], "certified": ["register", "cremate", "certify"],
                 "closed": ["register", "cremate", "close"], "handed_over": ["register", "cremate", "hand_over"]}
        for step in steps[state]:
            if step == "register":
                self._created(f"{path}/register", None, self.reviewer)
            elif step == "cremate":
                self._created(f"{path}/cremation", cremation(institution), registrar)
            elif step == "certify":
                certificate = self._created(f"{path}/certificates", None, registrar)
                case.update(certificate_id=certificate["id"], certificate=certificate)
            elif step == "close":
                self._created(f"{path}/close", None, registrar)
            elif step == "hand_over":
                self._created(f"{path}/ashes-destination", {"destination": "columbarium", "plot_or_niche": niche(),
                                                             "institution_id": self.columbarium["id"]}, registrar)
            elif step == "storage":
                case["storage_id"] = self._created(f"{path}/storages", storage(institution), registrar)["id"]
        return case

    def request(self, key: tuple[str, str], name: str) -> tuple[str, dict | None]:
        """The path and body of the operation on institution `name`'s target, prepared until it is used up."""
        if (key, name) not in self._prepared:
            self._prepared[key, name] = self._prepare(key, name)
        return self._prepared[key, name]

    def used_up(self, key: tuple[str, str], name: str) -> None:
        if key[0] != "GET":
            self._prepared.pop((key, name), None)

    def _prepare(self, key: tuple[str, str], name: str) -> tuple[str, dict | None]:
        method, template = key
        institution = self.institutions[name]
        target = OPERATIONS[key].target
        params = {"institution_id": institution["id"]}
        if target == "priced":
            params["item_id"] = self._created(f"/api/v1/institutions/{institution['id']}/service-items",
                                              BODIES[SERVICE_ITEMS](self, institution), self.admin)["id"]
        elif target.startswith("publication_"):
            params["publication_id"] = create_publication(self.client, self.admin,
                                                          publish=target == "publication_published")["id"]
        elif target not in ("none", "institution"):
            case = self.case(name, target)
            params.update(case_id=case["id"], storage_id=case.get("storage_id"), certificate_id=case.get("certificate_id"))
        path = template.format(**params)
        if key == ("GET", "/api/v1/cases"):
            path += f"?institution_id={institution['id']}"
        return path, BODIES.get(key, lambda world, institution: None)(self, institution)


def cremation(institution: dict) -> dict:
    started = datetime.now(UTC) - timedelta(hours=3)
    return {"institution_id": institution["id"], "started_at": started.isoformat(),
            "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01", "operator_name": "李师傅"}


def storage(institution: dict) -> dict:
    return {"institution_id": institution["id"], "cabinet_no": f"C-{next(_serial)}",
            "stored_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}


def niche() -> str:
    return f"思园{next(_serial)}号"


def _hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


SERVICE_ITEMS = ("POST", "/api/v1/institutions/{institution_id}/service-items")
BODIES: dict[tuple[str, str], Callable[[World, dict], dict]] = {
    ("POST", "/api/v1/institutions"): lambda world, institution: institution_payload(),
    ("PATCH", "/api/v1/institutions/{institution_id}"): lambda world, institution: {"contact_name": "李主任"},
    ("POST", "/api/v1/institutions/{institution_id}/service-items"): lambda world, institution: {
        "name": f"遗体火化{next(_serial)}", "category": "basic", "unit": "具", "price_fen": 40000,
        "pricing_basis": "government_set", "effective_from": "2025-01-01"},
    ("POST", "/api/v1/institutions/{institution_id}/service-items/{item_id}/end"): lambda world, institution: {
        "effective_to": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()},
    ("PUT", "/api/v1/institutions/{institution_id}/disclosure"): lambda world, institution: {
        "opening_hours": "每日 8:00-17:00", "commitments": ["24小时接运遗体"], "complaint_phone": "010-12345678"},
    ("POST", "/api/v1/publications"): lambda world, institution: publication_payload(),
    ("PATCH", "/api/v1/publications/{publication_id}"): lambda world, institution: {"summary": "修订后的摘要"},
    ("POST", "/api/v1/publications/{publication_id}/withdraw"): lambda world, institution: {"reason": "政策已废止"},
    ("POST", "/api/v1/cases"): lambda world, institution: case_payload(institution["id"]),
    ("POST", "/api/v1/cases/search"): lambda world, institution: {"institution_id": institution["id"]},
    ("POST", "/api/v1/cases/imports"): lambda world, institution: {"records": [case_payload(
        institution["id"], death_at="2012-05-06T10:00:00+08:00", archive_ref=f"BJ-2012/{next(_serial):06d}")]},
    ("POST", f"{CASE}/corrections"): lambda world, institution: {"changes": {"cause_category": "accident"},
                                                                 "reason": "核对死亡医学证明"},
    ("POST", f"{CASE}/cremation"): lambda world, institution: cremation(institution),
    ("POST", f"{CASE}/certificates/reissue"): lambda world, institution: {"reason": "家属遗失原件"},
    ("POST", "/api/v1/certificate-verifications"): lambda world, institution: world.certificate_check(),
    ("POST", f"{CASE}/certificates/cancel"): lambda world, institution: {"reason": "登记错误"},
    ("POST", f"{CASE}/transports"): lambda world, institution: {
        "institution_id": institution["id"], "from_address": "北京协和医院", "to_address": "本馆",
        "vehicle_plate": "京A12345", "departed_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "arrived_at": _hour_ago()},
    ("POST", f"{CASE}/storages"): lambda world, institution: storage(institution),
    ("POST", f"{CASE}/storages/{{storage_id}}/release"): lambda world, institution: {"released_at": _hour_ago()},
    ("POST", f"{CASE}/ashes-destination"): lambda world, institution: {"destination": "sea_scattering"},
    ("POST", f"{CASE}/interments"): lambda world, institution: {
        "kind": "placement", "remains_form": "ashes", "institution_id": world.columbarium["id"],
        "plot_or_niche": niche(), "interred_at": _hour_ago()},
}


@pytest.fixture(scope="module")
def db_backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def matrix_app(module_database_url, tmp_path_factory):
    from registry.app import create_app
    from registry.config import Settings

    app = create_app(Settings(tenant_code="110000", tenant_slug="beijing", database_url=module_database_url,
                              keys_dir=tmp_path_factory.mktemp("keys"), environment="development"))
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def world(matrix_app) -> Iterator[World]:
    with TestClient(matrix_app) as client:
        yield World(client, matrix_app)


def test_every_route_of_the_app_is_in_the_matrix(matrix_app):
    routes = {(method, path) for method, path, _ in app_routes(matrix_app)}
    assert routes - OPERATIONS.keys() == set(), "routes the matrix does not cover: add them to OPERATIONS"
    assert OPERATIONS.keys() - routes == set(), "operations of the matrix the app no longer has"


@pytest.mark.parametrize("scope", SCOPES)
def test_every_role_on_every_operation(world, matrix_app, scope):
    settings = matrix_app.state.ctx.settings
    stranger = DevelopmentIssuer(crypto.new_rsa_private_pem(), issuer="fsp-dev:tianjin",
                                 audience=settings.token_audience)  # another tenant's issuer and key
    own = world.institutions["own"]["id"]
    session = Session(matrix_app.state.ctx.engine)
    wrong = []
    for role in ROLES:
        bound_to = own if role in INSTITUTION_BOUND else None
        headers = world.headers(role, bound_to, issuer=stranger if scope == "other_tenant" else None)
        for method, template, success in app_routes(matrix_app):
            key = (method, template)
            name = "other" if scope == "other_institution" else "own"
            path, body = world.request(key, name)
            response = world.client.request(method, path, json=body, headers=headers)
            want = expected(role, key, scope, success)
            got: int | str = response.status_code
            if want == LISTED_NOTHING and got == 200:
                got = LISTED_NOTHING if response.json()["data"] == [] else "200, listing another's cases"
            if got != want:
                wrong.append(f"{role} {method} {template} [{scope}]: expected {want}, got {got} {response.text[:160]}")
            elif got == 403:
                entry = last_audit(session)
                if (entry.actor, entry.result) != (f"matrix-{role}", "refused"):
                    wrong.append(f"{role} {method} {template} [{scope}]: the 403 is not audited with the subject")
            if response.status_code < 300:
                world.used_up(key, name)
    session.close()
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def ministry_app(database_url, tmp_path):
    from registry.app import create_app
    from registry.config import Role as TenantRole
    from registry.config import Settings

    app = create_app(Settings(tenant_code="100000", tenant_slug="ministry", role=TenantRole.ministry,
                              database_url=database_url, keys_dir=tmp_path / "keys", environment="development"))
    yield app
    app.state.ctx.engine.dispose()


def test_every_role_on_the_ministrys_own_operations(ministry_app):
    routes = {(method, path) for method, path, _ in app_routes(ministry_app)}
    assert routes - OPERATIONS.keys() == MINISTRY_OPERATIONS.keys(), "the ministry's routes: add them to MINISTRY_OPERATIONS"
    settings = ministry_app.state.ctx.settings
    stranger = DevelopmentIssuer(crypto.new_rsa_private_pem(), issuer="fsp-dev:beijing", audience=settings.token_audience)
    wrong = []
    with TestClient(ministry_app) as client, Session(ministry_app.state.ctx.engine) as session:
        for (method, template), operation in MINISTRY_OPERATIONS.items():
            if operation.target == "signed batch":
                continue
            path = template.format(province="beijing", case_id=uuid.uuid4(), metric="deaths")
            if operation.target == "a year":  # statistics are asked for a year
                path += "?year=2026"
            for role, issuer in [*((role, ministry_app.state.ctx.issuer) for role in ROLES), (Role.ministry_operator, stranger)]:
                token = issuer.mint(f"matrix-{role}", [role.value] if role else ["offline_access"])
                response = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
                if issuer is stranger:
                    want = 401
                elif role is None or operation.permission not in ROLE_PERMISSIONS[role]:
                    want = 403
                else:
                    want = 404 if operation.target == "unknown case" else 200
                if response.status_code != want:
                    wrong.append(f"{role} {method} {template}: expected {want}, got {response.status_code}")
                elif want in (200, 403, 404):  # reads are audited like refusals, with the subject
                    session.rollback()
                    if last_audit(session).actor != f"matrix-{role}":
                        wrong.append(f"{role} {method} {template}: not audited with the subject")
    assert not wrong, "\n".join(wrong)
