"""The dynamic providers' create/diff/update/delete over the ensure-functions: the database provider on the real
PostgreSQL server, the registration provider on a real directory, the realm provider over injected functions and on the Keycloak
double over real HTTP."""
import asyncio
import base64
import json
import sys
import types

import dill
import psycopg
import pytest
from google.protobuf import json_format
from keycloak import KeycloakAdmin
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from sqlalchemy import make_url

from infra.ensure.database import tenant_database_url
from infra.providers.database import PostgresDatabaseProvider
from infra.providers.realm import KeycloakRealmProvider
from infra.providers.registration import ExchangeRegistrationProvider
from kc_double.runner import BackgroundServer
from kc_double.server import KeycloakDouble
from tenants import load_catalog

PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA{}\n-----END PUBLIC KEY-----\n"


def _login(admin_url: str, name: str, password: str) -> None:
    url = tenant_database_url(admin_url, database=name, role=name, password=password)
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == name


def _clear(outs: dict) -> str:
    """The outputs as state would hold them in clear: secret-marked values left out."""
    return json.dumps({k: v for k, v in outs.items() if not rpc.is_rpc_secret(v)})


def _exists(admin_url: str, name: str) -> bool:
    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as conn:
        return conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()[0] == 1


# --- PostgreSQL database and role -----------------------------------------------------------------------------------

def test_database_provider_lifecycle_on_the_real_server(pg_admin_url, pg_names):
    name = pg_names("k8s")
    provider = PostgresDatabaseProvider()
    news = {"admin_url": pg_admin_url, "database": name, "role": name, "password": "first-Pw-123"}
    checked = provider.check({}, news)
    assert checked.failures == []

    created = provider.create(checked.inputs)
    assert created.id == name
    _login(pg_admin_url, name, "first-Pw-123")
    outs = created.outs
    assert rpc.is_rpc_secret(outs["admin_url"]) and rpc.unwrap_rpc_secret(outs["admin_url"]) == pg_admin_url
    assert "first-Pw-123" not in json.dumps(outs)
    assert outs["password_fingerprint"] and outs["database"] == name

    same = provider.diff(name, outs, checked.inputs)
    assert same.changes is False and same.replaces == []

    rotated = {**news, "password": "second-Pw-456"}
    diff = provider.diff(name, outs, rotated)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(name, outs, rotated)
    _login(pg_admin_url, name, "second-Pw-456")
    with pytest.raises(psycopg.OperationalError):
        _login(pg_admin_url, name, "first-Pw-123")
    assert provider.diff(name, updated.outs, rotated).changes is False
    # converging again with what is already there changes nothing and still logs in
    provider.update(name, updated.outs, rotated)
    _login(pg_admin_url, name, "second-Pw-456")

    assert provider.diff(name, updated.outs, {**rotated, "database": name + "_b", "role": name + "_b"}).replaces == [
        "database", "role"]

    provider.delete(name, updated.outs)
    assert not _exists(pg_admin_url, name)
    provider.delete(name, updated.outs)  # already gone: nothing to do, no error


def test_database_provider_check_names_each_bad_input():
    failures = PostgresDatabaseProvider().check({}, {"admin_url": "mysql://x", "database": "Bad-Name",
                                                     "role": "ok_role", "password": ""}).failures
    assert {(f.property, f.reason) for f in failures} == {
        ("database", r"must match ^[a-z_][a-z0-9_]{0,62}$"), ("admin_url", "must be a postgresql:// URL"),
        ("password", "must not be empty")}


def _on_the_wire(props: dict) -> dict:
    """Properties serialised as the dynamic provider's server answers the engine."""
    loop = asyncio.new_event_loop()
    try:
        return json_format.MessageToDict(loop.run_until_complete(rpc.serialize_properties(props, {})))
    finally:
        loop.close()


def test_database_provider_as_the_engine_runs_it_never_answers_a_credential_in_clear(pg_admin_url, pg_names):
    """The provider as the engine gets it (dill-serialised into state, loaded again), its answer on the wire."""
    name = pg_names("wire")
    provider = dill.loads(base64.b64decode(serialize_provider(PostgresDatabaseProvider())))
    created = provider.create({"admin_url": pg_admin_url, "database": name, "role": name, "password": "wire-Pw-789"})
    wire = _on_the_wire(created.outs)
    assert wire["database"] == name and rpc.is_rpc_secret(wire["admin_url"])
    clear = _clear(wire)
    assert "wire-Pw-789" not in json.dumps(wire) and pg_admin_url not in clear
    admin_password = make_url(pg_admin_url).password
    if admin_password:
        assert admin_password not in clear
    _login(pg_admin_url, name, "wire-Pw-789")


# --- exchange registration -------------------------------------------------------------------------------------------

def test_registration_provider_writes_updates_and_removes_the_trusted_key(tmp_path):
    provider = ExchangeRegistrationProvider()
    peers = tmp_path / "exchange-peers"
    news = {"peers_dir": str(peers), "slug": "yunnan", "public_pem": PEM.format("first")}
    outs = provider.create(news).outs
    assert (peers / "yunnan.pem").read_text() == PEM.format("first")
    assert provider.diff("yunnan", outs, news).changes is False

    rotated = {**news, "public_pem": PEM.format("second")}
    diff = provider.diff("yunnan", outs, rotated)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update("yunnan", outs, rotated).outs
    assert (peers / "yunnan.pem").read_text() == PEM.format("second")
    assert provider.diff("yunnan", outs, {**rotated, "slug": "yunnan2"}).replaces == ["slug"]

    provider.delete("yunnan", outs)
    assert not (peers / "yunnan.pem").exists()
    provider.delete("yunnan", outs)


# --- Keycloak realm --------------------------------------------------------------------------------------------------

@pytest.fixture
def realm_calls(monkeypatch) -> list[tuple]:
    """infra.ensure.realm replaced by functions that record how they are called."""
    calls: list[tuple] = []
    fake = types.ModuleType("infra.ensure.realm")
    fake.desired_realm = lambda spec: {"realm": spec.realm_name, "retention": spec.audit_retention_days}

    def apply_realm(server_url, admin_username, admin_password, spec, *, identity_secret=None):
        calls.append((server_url, admin_username, admin_password, spec.slug, identity_secret))
        return [(f"realm {spec.realm_name}", "created" if len(calls) == 1 else "unchanged")]

    fake.apply_realm = apply_realm
    monkeypatch.setitem(sys.modules, "infra.ensure.realm", fake)
    return calls


def test_realm_provider_applies_the_desired_realm_and_keeps_no_credential(realm_calls):
    spec = load_catalog().resolve("shaanxi")
    provider = KeycloakRealmProvider()
    news = {"server_url": "http://127.0.0.1:8080", "tenant": spec.model_dump(mode="json"),
            "admin_username": "kc-admin", "admin_password": "Kc-Pw-321", "identity_secret": "Gov-Id-Secret-9"}
    created = provider.create(news)
    assert created.id == "fsp-shaanxi"
    assert realm_calls == [("http://127.0.0.1:8080", "kc-admin", "Kc-Pw-321", "shaanxi", "Gov-Id-Secret-9")]
    assert "Kc-Pw-321" not in json.dumps(created.outs) and "kc-admin" not in json.dumps(created.outs)
    assert "Gov-Id-Secret-9" not in json.dumps(created.outs), "the identity's client secret stays out of state"
    assert created.outs["objects"] == [["realm fsp-shaanxi", "created"]]

    assert provider.diff("fsp-shaanxi", created.outs, news).changes is False
    longer = spec.model_copy(update={"audit_retention_days": 400})
    changed = {**news, "tenant": longer.model_dump(mode="json")}
    diff = provider.diff("fsp-shaanxi", created.outs, changed)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update("fsp-shaanxi", created.outs, changed)
    assert len(realm_calls) == 2 and updated.outs["objects"] == [["realm fsp-shaanxi", "unchanged"]]

    moved = {**changed, "server_url": "http://127.0.0.1:9090"}
    assert provider.diff("fsp-shaanxi", updated.outs, moved).replaces == ["server_url"]
    provider.delete("fsp-shaanxi", updated.outs)
    assert len(realm_calls) == 2  # the realm and its accounts are kept


@pytest.fixture(scope="module")
def keycloak_double():
    """The Keycloak double over real HTTP on loopback (admin requests checked against the admin API document)."""
    double = KeycloakDouble()
    with BackgroundServer(double.app) as url:
        yield double, url


def test_realm_provider_converges_the_realm_on_the_keycloak_double(keycloak_double):
    double, url = keycloak_double
    spec = load_catalog().resolve("gansu")
    provider = KeycloakRealmProvider()
    news = {"server_url": url, "tenant": spec.model_dump(mode="json"),
            "admin_username": double.admin_username, "admin_password": double.admin_password}
    created = provider.create(news)
    assert created.id == "fsp-gansu"
    assert created.outs["objects"][0] == ["realm", "created"]
    assert ["role registrar", "created"] in created.outs["objects"]
    assert double.admin_password not in json.dumps(created.outs)
    admin = KeycloakAdmin(server_url=url, username=double.admin_username, password=double.admin_password,
                          realm_name="fsp-gansu", user_realm_name="master")
    assert admin.get_realm("fsp-gansu")["realm"] == "fsp-gansu"

    assert provider.diff("fsp-gansu", created.outs, news).changes is False
    again = provider.update("fsp-gansu", created.outs, news)
    assert {outcome for _, outcome in again.outs["objects"]} == {"unchanged"}
