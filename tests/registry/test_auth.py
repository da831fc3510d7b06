"""Bearer tokens: wrong signature, issuer, audience, expiry or role are refused and audited."""
import time

import jwt
import pytest

from assertions import assert_problem, last_audit
from registry.security import crypto
from registry.security.auth import DevelopmentIssuer

PATH = "/api/v1/cases"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def issuer_like(app, **overrides) -> DevelopmentIssuer:
    settings = app.state.ctx.settings
    options = {"issuer": settings.issuer, "audience": settings.token_audience, **overrides}
    return DevelopmentIssuer(options.pop("pem", app.state.ctx.keys.token_private_pem), **options)


@pytest.mark.parametrize("case", ["missing", "garbage", "other_key", "other_tenant", "wrong_audience", "expired"])
def test_bad_tokens_get_401_and_an_audit_entry(client, app, session, case):
    tokens = {
        "missing": None,
        "garbage": "not-a-jwt",
        "other_key": issuer_like(app, pem=crypto.new_rsa_private_pem()).mint("x", ["registrar"]),
        "other_tenant": issuer_like(app, issuer="fsp-dev:tianjin").mint("x", ["registrar"]),
        "wrong_audience": issuer_like(app, audience="another-api").mint("x", ["registrar"]),
        "expired": issuer_like(app).mint("x", ["registrar"], ttl_seconds=-3600),
    }
    headers = bearer(tokens[case]) if tokens[case] else {}
    response = client.get(PATH, headers=headers)
    assert_problem(response, 401, "authorization", "bearer_token")
    assert response.headers["www-authenticate"] == "Bearer"
    entry = last_audit(session)
    assert entry.result == "refused" and '"status": 401' in entry.detail


def test_roleless_token_is_403_and_audited_with_subject(client, session, mint):
    response = client.get(PATH, headers=mint(subject="nobody"))
    assert_problem(response, 403, "authorization", "permission")
    assert (last_audit(session).actor, last_audit(session).result) == ("nobody", "refused")


def test_alg_none_is_refused(client):
    claims = {"iss": "fsp-dev:beijing", "aud": "registry-api", "sub": "x", "iat": int(time.time()),
              "exp": int(time.time()) + 60, "realm_access": {"roles": ["registrar"]}}
    forged = jwt.encode(claims, key=None, algorithm="none")
    assert client.get(PATH, headers=bearer(forged)).status_code == 401


def test_jwks_publishes_the_signing_key(client, mint):
    jwks = client.get("/.well-known/jwks.json").json()
    token = mint("registrar")["Authorization"].split()[1]
    key = jwt.PyJWK(jwks["keys"][0]).key
    assert jwt.decode(token, key, algorithms=["RS256"], audience="registry-api")["sub"] == "tester"


@pytest.mark.parametrize("roles", [("system-admin", "audit-admin"), ("security-admin", "system-admin"),
                                   ("audit-admin", "security-admin", "auditor"), ("auditor", "system-admin"),
                                   ("security-admin", "auditor")])
def test_a_token_combining_separated_roles_is_refused(client, mint, session, roles):
    response = client.get("/api/v1/audit", headers=mint(*roles, subject="two-hats"))
    assert_problem(response, 403, "authorization", "separation_of_duties")
    assert (last_audit(session).actor, last_audit(session).result) == ("two-hats", "refused")


def test_the_auditor_may_also_be_the_audit_administrator(client, mint):
    # both only read the trail: 三员分立 keeps the auditor away from those whose work it checks
    assert client.get("/api/v1/audit", headers=mint("auditor", "audit-admin")).status_code == 200
