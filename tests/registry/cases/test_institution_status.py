"""A registrar of a suspended or closed institution declares and records nothing; its cases stay readable, and a
provincial admin still imports the closed institution's archived records (they are history)."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from assertions import assert_problem
from factories import case_payload, declare_case
from registry.cases import declarations as cases
from registry.cases.models import Case, CaseCreate
from registry.errors import Forbidden
from registry.remains.models import Transport
from registry.security.auth import Principal
from registry.security.permissions import permissions_of

INACTIVE = ["suspended", "closed"]


@pytest.fixture
def set_status(client, admin, funeral_home):
    def _set(status: str) -> None:
        response = client.patch(f"/api/v1/institutions/{funeral_home['id']}", json={"status": status}, headers=admin)
        assert response.status_code == 200, response.text

    return _set


@pytest.mark.parametrize("status", INACTIVE)
def test_a_registrar_of_an_inactive_institution_cannot_declare(client, registrar, funeral_home, set_status,
                                                               expect_refusal, status):
    set_status(status)
    body = expect_refusal("/api/v1/cases", case_payload(funeral_home["id"]), {**registrar, "Accept-Language": "en"},
                          403, "authorization", "institution_active", Case)
    assert status in body["errors"][0]["message"]
    set_status("active")  # the same registrar works again once the institution does
    declare_case(client, registrar, funeral_home["id"])


@pytest.mark.parametrize("status", INACTIVE)
def test_nor_record_anything_on_its_cases_which_stay_readable(client, registrar, funeral_home, set_status,
                                                              expect_refusal, status):
    case = declare_case(client, registrar, funeral_home["id"])
    set_status(status)
    path = f"/api/v1/cases/{case['id']}"
    now = datetime.now(UTC)
    transport = {"institution_id": funeral_home["id"], "from_address": "北京协和医院", "to_address": "本馆",
                 "vehicle_plate": "京A12345", "departed_at": (now - timedelta(hours=2)).isoformat(),
                 "arrived_at": (now - timedelta(hours=1)).isoformat()}
    expect_refusal(f"{path}/transports", transport, registrar, 403, "authorization", "institution_active", Transport)
    expect_refusal(f"{path}/corrections", {"changes": {"deceased_name": "改名"}, "reason": "核对"}, registrar, 403,
                   "authorization", "institution_active", Case)
    assert client.get(path, headers=registrar).status_code == 200


def test_the_group_commit_screens_each_declaration_on_its_institution_status(app, client, admin, mint,
                                                                             funeral_home, set_status):
    # declarations of an active and of a suspended institution written in one batch: only the first is accepted
    from factories import create_institution

    active = create_institution(client, admin, type="funeral_home")
    set_status("suspended")
    ctx = app.state.ctx

    def declaration(institution: dict):
        institution_id = uuid.UUID(institution["id"])
        principal = Principal(subject=f"registrar-{institution_id}", roles=frozenset({"registrar"}),
                              institution_id=institution_id, permissions=permissions_of(frozenset({"registrar"})))
        return cases.prepare(ctx, principal, CaseCreate.model_validate(case_payload(institution_id)))

    results = cases.declare_batch(ctx, [declaration(active), declaration(funeral_home)])
    assert not isinstance(results[0], Exception), results[0]
    assert isinstance(results[1], Forbidden) and results[1].problems[0].rule == "institution_active"
    with Session(ctx.engine) as session:
        assert session.get(Case, results[0].id) is not None


def test_a_provincial_admin_imports_the_archive_of_a_closed_institution(client, mint, funeral_home, set_status):
    set_status("closed")
    record = case_payload(funeral_home["id"], death_at="2012-05-06T10:00:00+08:00", archive_ref="BJ-2012/000777")
    response = client.post("/api/v1/cases/imports", json={"records": [record]}, headers=mint("provincial-admin"))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1, response.text


def test_an_unbound_or_unknown_institution_account_is_refused(client, mint, funeral_home):
    ghost = mint("registrar", institution_id=uuid.uuid4())
    response = client.post("/api/v1/cases", json=case_payload(funeral_home["id"]), headers=ghost)
    assert_problem(response, 403, "institution_id", "institution_binding")
