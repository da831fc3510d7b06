"""Schemathesis against the app of every pilot tenant: no server error, no undocumented status, no answer that
breaks its schema, for a token of every role and for none, request by request and in linked sequences.

Deterministic (a fixed seed, no example database) and small (a few examples per operation), so CI does not flake.
"""
import copy
import itertools
import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.pytest.lazy import get_all_tests

from factories import institution_payload
from registry import regions
from registry.app import create_app
from registry.config import Settings
from registry.limits import AttemptLimiter
from registry.security.permissions import Role
from tenants import load_catalog

PILOTS = load_catalog().pilots
# the first pilot (with the coverage phase) on both backends, the others each on one, in turn: the same operations
# and seeds on every pilot, so both backends see every pilot's region codes without running five times over two
pytestmark = pytest.mark.backends_by("pilot", [
    (pilot, ("sqlite", "postgresql") if n == 0 else (("postgresql",), ("sqlite",))[n % 2])
    for n, pilot in enumerate(PILOTS)])

CONFIG = {
    "seed": 20261130,
    "generation": {"mode": "all", "max-examples": 3, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"max-steps": 12}},
    # in-process calls: only a machine busy with other work makes one slow, and a timeout there is no finding
    "request-timeout": 120,
    # schema-valid is not always acceptable: checksums, region codes, the case's flow are checked beyond the schema
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
}


def _region_in(province_code: str) -> str:
    """A known county-level region code of the province."""
    candidates = (f"{province_code[:2]}{n:04d}" for n in range(101, 10000))
    return next(code for code in candidates if regions.is_known(code) and not code.endswith("00"))


@pytest.fixture
def tenant_app(pilot, database_url, tmp_path):
    tenant = pilot
    app = create_app(Settings(tenant_code=tenant.code, tenant_slug=tenant.slug, database_url=database_url,
                              keys_dir=tmp_path / "keys", environment="development"))
    app.state.tenant = tenant
    # every operation's guesses come from this one client: the per-client limit on wrong query and invitation
    # codes (tested on its own in test_online_status and the reservations tests) would answer the rest with 429
    app.state.ctx.query_attempts = AttemptLimiter(max_failures=10 ** 6)
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture
def tokens(tenant_app) -> list[dict[str, str]]:
    """Headers of a token of every role (the registrar bound to a funeral home of the province), and none."""
    issuer = tenant_app.state.ctx.issuer
    admin = {"Authorization": f"Bearer {issuer.mint('admin', [Role.provincial_admin.value])}"}
    with TestClient(tenant_app) as client:
        home = client.post("/api/v1/institutions", headers=admin, json=institution_payload(
            type="funeral_home", region_code=_region_in(tenant_app.state.tenant.code)))
        assert home.status_code == 201, home.text
    bound = uuid.UUID(home.json()["id"])
    return [{}] + [{"Authorization": "Bearer " + issuer.mint(
        f"schemathesis-{role.value}", [role.value], institution_id=bound if role == Role.registrar else None)}
        for role in Role]


@pytest.fixture
def api_schema(tenant_app):
    config = copy.deepcopy(CONFIG)
    # the coverage phase (every boundary of every parameter) takes long: the first pilot's app goes through it
    config["phases"]["coverage"] = {"enabled": tenant_app.state.tenant == PILOTS[0]}
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", tenant_app,
                                          config=schemathesis.Config.from_dict(config))


# the deadline is off: a first request to a fresh app compiles statements; determinism comes from the seed
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)


def test_every_answer_is_documented(api_schema, tokens):
    """Every operation through schemathesis' phases (examples, coverage, fuzzing): its first case with every
    token, the others with the tokens taking turns."""
    turn = itertools.count()
    failures = []
    # the builder of schemathesis' own pytest integration, whose fixture loader does not run on pytest 9
    for result in get_all_tests(schema=api_schema, test_func=_calling(tokens, turn), settings=SETTINGS,
                                given_kwargs={}):
        operation, test = result.ok()
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tested; all failures are reported
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _calling(tokens: list[dict], turn: itertools.count):
    seen = set()

    def call(case):
        first = case.operation.label not in seen
        seen.add(case.operation.label)
        for headers in tokens if first else [tokens[next(turn) % len(tokens)]]:
            case.call_and_validate(headers=_unless_headers_made_invalid(case, headers))

    return call


def _unless_headers_made_invalid(case, token: dict[str, str]) -> dict[str, str]:
    """No token over headers schemathesis made invalid on purpose (e.g. without the required Authorization): a
    valid token would make its negative case a valid request, and a 200 to it a false finding."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return {} if header is not None and header.mode == GenerationMode.NEGATIVE else token


def test_linked_sequences_get_documented_answers(api_schema, tokens):
    """Stateful: operations chained by the links schemathesis infers (an institution created, then read...)."""
    turn = itertools.count()

    class WithTokens(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):  # the tokens take turns, step by step
            return {"headers": tokens[next(turn) % len(tokens)]}

    WithTokens.run(settings=settings(SETTINGS, max_examples=4, stateful_step_count=6))
