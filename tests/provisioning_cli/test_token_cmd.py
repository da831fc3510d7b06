"""`fsp token`: minted by the tenant's own development issuer, refused where that makes no sense."""
import shutil
import uuid

import pytest

from provisioning_cli.targets.local import LocalTarget
from registry.errors import Unauthorized
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys
from tenants import DEFAULT_CATALOG_DIR, load_catalog


def _verifier(home, slug):
    settings = LocalTarget(home, load_catalog()).settings(load_catalog().resolve(slug))
    return DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                             audience=settings.token_audience)


def test_token_is_accepted_by_its_tenant_only(fsp, home):
    fsp("up", "beijing", "tianjin")
    institution = uuid.uuid4()

    token = fsp("token", "beijing", "--role", "registrar", "--role", "reviewer", "--institution", str(institution),
                "--subject", "wang").stdout.strip()

    principal = _verifier(home, "beijing").verify(token)
    assert principal.subject == "wang"
    assert principal.roles == {"registrar", "reviewer"}
    assert principal.institution_id == institution
    with pytest.raises(Unauthorized):
        _verifier(home, "tianjin").verify(token)


def test_token_json(fsp, fsp_json):
    fsp("up", "beijing")

    data = fsp_json("token", "110000", "--role", "provincial-admin", "--ttl", "60")

    assert {k: data[k] for k in ("tenant", "issuer", "roles", "expires_in")} == {
        "tenant": "beijing", "issuer": "fsp-dev:beijing", "roles": ["provincial-admin"], "expires_in": 60}
    assert data["token"].count(".") == 2


def test_unknown_role_lists_the_valid_ones(fsp):
    fsp("up", "beijing")

    result = fsp("token", "beijing", "--role", "emperor", ok=False)

    assert "unknown role 'emperor'" in result.stderr
    assert "provincial-admin" in result.stderr and "registrar" in result.stderr
    assert result.stdout == ""


def test_refused_for_a_keycloak_tenant(fsp, tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for slug in ("ministry", "beijing", "tianjin"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", catalog)
    with (catalog / "beijing.yaml").open("a", encoding="utf-8") as f:
        f.write("sso:\n  provider: keycloak\n  keycloak_url: https://sso.beijing.example/\n")
    fsp("up", "tianjin", "--catalog", str(catalog))  # provisioning beijing would need its Keycloak

    result = fsp("token", "beijing", "--role", "registrar", "--catalog", str(catalog), ok=False)

    assert "Keycloak" in result.stderr and "fsp-beijing" in result.stderr
    assert result.stdout == ""
    fsp("token", "tianjin", "--role", "registrar", "--catalog", str(catalog))


def test_refused_for_unprovisioned_and_unknown_tenants(fsp):
    assert "not provisioned" in fsp("token", "beijing", "--role", "registrar", ok=False).stderr
    assert "unknown tenant" in fsp("token", "peking", "--role", "registrar", ok=False).stderr
