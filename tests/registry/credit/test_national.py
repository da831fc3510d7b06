"""The provinces' list changes reach the ministry: the `credit.list_changed` events a province really writes are
projected into one national record per institution and year (replays and older events change nothing), and
ministry operators list every province's red and black lists, each read audited."""
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assertions import last_audit
from factories import YEAR, penalty_payload
from registry.app import create_app
from registry.config import Role
from registry.exchange import outbound
from registry.exchange.models import Batch
from registry.national import projection
from registry.national.credit_lists import NationalCreditListing


@pytest.fixture
def ministry(settings):
    app = create_app(settings.model_copy(update={"role": Role.ministry, "tenant_code": "100000",
                                                 "tenant_slug": "ministry"}))
    yield app
    app.state.ctx.engine.dispose()


def _shipped(app) -> Batch:
    body, _ = outbound.batch_body(outbound.unshipped(app.state.ctx.engine, limit=1000), province="beijing",
                                  province_code="110000", max_bytes=10_000_000)
    return Batch.model_validate_json(body)


def _project(session: Session, events) -> None:
    session.rollback()
    projection.apply_events(session, province="beijing", province_code="110000", events=events, now=datetime.now(UTC))
    session.commit()


def test_list_changes_are_projected_once_and_listed_for_the_ministry(app, client, session, admin, post, home, ministry,
                                                                     mint):
    listed, penalised = home(), home()
    post("/api/v1/credit/penalties", penalty_payload(penalised["id"], kind="suspension"), admin, 201)
    post("/api/v1/credit/evaluations", {"year": YEAR}, admin)
    first = _shipped(app)
    assert "tester" not in first.model_dump_json()  # who evaluated (the admin) stays in the province

    _project(session, first.events)
    _project(session, first.events)  # a replay changes nothing

    records = {r.institution_id: r for r in session.exec(select(NationalCreditListing))}
    assert {k: (r.listing, r.score, r.province_slug) for k, r in records.items()} == {
        uuid.UUID(listed["id"]): ("red", 95, "beijing"), uuid.UUID(penalised["id"]): ("black", 65, "beijing")}
    assert records[uuid.UUID(penalised["id"])].reasons[0]["code"] == "serious_penalty"

    # the admin takes the listed one off by hand: the later event moves the record, an older one never does
    post(f"/api/v1/credit/scores/{listed['id']}/{YEAR}/listing", {"listing": None, "reason": "信访核查中，暂缓列入"},
         admin)
    later = [e for e in _shipped(app).events if e.seq > first.last_seq and e.event_type == "credit.list_changed"]
    _project(session, later)
    _project(session, [e for e in first.events if e.event_type == "credit.list_changed"])
    session.expire_all()
    moved = session.get(NationalCreditListing, ("beijing", uuid.UUID(listed["id"]), YEAR))
    assert (moved.listing, moved.previous, moved.manual) == (None, "red", True)
    assert session.exec(select(NationalCreditListing)).all().__len__() == 2

    operator = ministry.state.ctx.issuer.mint("operator-1", ["ministry-operator"])
    with TestClient(ministry) as national:
        answer = national.get("/api/v1/national/credit-lists", params={"year": YEAR},
                              headers={"Authorization": f"Bearer {operator}"})
        assert answer.status_code == 200, answer.text
        assert [(e["name"], e["listing"]) for e in answer.json()["data"]] == [(penalised["name"], "black")]
        assert (last_audit(session).actor, last_audit(session).action) == ("operator-1", "national.credit_lists")
        refused = national.get("/api/v1/national/credit-lists", params={"year": YEAR, "listing": "grey"},
                               headers={"Authorization": f"Bearer {operator}"})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "listing"
