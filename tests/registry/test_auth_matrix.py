"""Which realm role may call which endpoint: every role against one endpoint per permission, 三员 never combined."""
import uuid

from assertions import assert_problem, last_audit

CASE = uuid.uuid4()  # no such case: an allowed caller gets past authorisation and then a 404 or 422
ENDPOINTS = {
    "institutions:write": ("POST", "/api/v1/institutions"),
    "cases:read": ("GET", "/api/v1/cases"),
    "cases:write": ("POST", "/api/v1/cases"),
    "cases:review": ("POST", f"/api/v1/cases/{CASE}/register"),
    "cases:import": ("POST", "/api/v1/cases/imports"),
    "personal-data:read": ("GET", f"/api/v1/cases/{CASE}/id-number"),
    "cremations:write": ("POST", f"/api/v1/cases/{CASE}/cremation"),
    "remains:write": ("POST", f"/api/v1/cases/{CASE}/transports"),
    "audit:read": ("GET", "/api/v1/audit"),
    "outbox:read": ("GET", "/api/v1/outbox"),
}
# written out by hand from the role descriptions, not derived from the code under test
ALLOWED = {
    "system-admin": {"outbox:read"},
    "security-admin": set(),
    "audit-admin": {"audit:read"},
    "provincial-admin": {"institutions:write", "cases:read", "cases:import"},
    "registrar": {"cases:read", "cases:write", "cremations:write", "remains:write"},
    "reviewer": {"cases:read", "cases:review", "personal-data:read"},
    "auditor": {"audit:read"},
    "ministry-operator": {"outbox:read", "cases:read"},
    None: set(),  # a token without any role of this application
}


def call(client, headers, endpoint):
    method, path = ENDPOINTS[endpoint]
    return client.request(method, path, headers=headers, json={} if method == "POST" else None)


def test_role_endpoint_matrix(client, mint, session):
    granted = {}
    for role in ALLOWED:
        institution = uuid.uuid4() if role == "registrar" else None
        headers = mint(*([role] if role else ["offline_access"]), institution_id=institution, subject=f"who-{role}")
        outcome = {}
        for endpoint in ENDPOINTS:
            status = call(client, headers, endpoint).status_code
            assert status != 401, (role, endpoint)
            outcome[endpoint] = status != 403
            if status == 403:
                entry = last_audit(session)
                assert (entry.actor, entry.result) == (f"who-{role}", "refused"), (role, endpoint)
        granted[role] = {endpoint for endpoint, allowed in outcome.items() if allowed}
    assert granted == ALLOWED


def test_a_token_combining_separated_roles_is_refused(client, mint, session):
    for roles in [("system-admin", "audit-admin"), ("security-admin", "system-admin"),
                  ("audit-admin", "security-admin", "auditor"), ("auditor", "system-admin"),
                  ("security-admin", "auditor")]:
        response = client.get("/api/v1/audit", headers=mint(*roles, subject="two-hats"))
        assert_problem(response, 403, "authorization", "separation_of_duties")
        assert (last_audit(session).actor, last_audit(session).result) == ("two-hats", "refused")


def test_the_auditor_may_also_be_the_audit_administrator(client, mint):
    # both only read the trail: 三员分立 keeps the auditor away from those whose work it checks
    assert client.get("/api/v1/audit", headers=mint("auditor", "audit-admin")).status_code == 200
