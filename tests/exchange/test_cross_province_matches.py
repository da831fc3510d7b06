"""The way back from the ministry: a province's shipper pulls the pairs the ministry found of one person
registered in it and in another province (signed, fresh, audited on both sides), and the province's reviewers
check and settle them."""
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from assertions import assert_problem, last_audit
from factories import case_payload, create_institution
from infra.ensure.keys import ensure_tenant_keys
from national_events import batch, case
from registry.audit.models import AuditEntry
from registry.cross_province.models import CrossProvinceMatch
from registry.exchange import matches
from registry.exchange import service as exchange
from registry.exchange.signing import SIGNATURE_HEADER, BatchSigner, canonical
from registry.journal import Journal
from registry.national.models import PersonMatch

LIST = "/api/v1/cross-province-matches"


@pytest.fixture
def settings(settings, tmp_path: Path):
    """beijing's, its keys with the provinces' shared person-matching key as `fsp up` provisions them (before the
    app reads them)."""
    ensure_tenant_keys(settings.keys_dir, fleet_keys=tmp_path / "fleet")
    return settings


@pytest.fixture
def province_keys(settings) -> Path:
    return settings.keys_dir


@pytest.fixture
def ministry_journal(ministry_settings, ministry_session) -> Journal:
    return Journal.of(ministry_session.get_bind(), keys_dir=ministry_settings.keys_dir,
                      checkpoint_file=ministry_settings.audit_checkpoint_path)


@pytest.fixture
def declared(app, client, mint) -> dict:
    """A case declared in beijing: its id and the person's cross-province blind index."""
    home = create_institution(client, mint("provincial-admin"))
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    payload = case_payload(home["id"], death_at=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    created = client.post("/api/v1/cases", json=payload, headers=registrar).json()
    person_ref = app.state.ctx.person_ref("resident_id", payload["id_number"])
    assert person_ref is not None
    return {"id": uuid.UUID(created["id"]), "person_ref": person_ref, "id_number": payload["id_number"]}


def _elsewhere(ministry_session, journal, province: str, first: int, person_ref: str) -> uuid.UUID:
    """Another province's case of the same person, received at the ministry."""
    other = uuid.uuid4()
    exchange.receive_batch(ministry_session, batch(province, first, [("case.declared", other,
                                                                      case(other, person_ref=person_ref))]),
                           journal=journal)
    return other


def _audits(session: Session, action: str) -> list[AuditEntry]:
    session.rollback()
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_province_pulls_the_pairs_naming_its_cases_and_a_reviewer_settles_them(
        app, client, mint, declared, make_shipper, ministry_url, ministry_session, ministry_journal):
    shipper = make_shipper(ministry_url, journal=app.state.ctx.journal)
    assert shipper.ship_pending().matches_received == 0  # shipped the case; nobody else has the person yet
    shandong = _elsewhere(ministry_session, ministry_journal, "shandong", 1, declared["person_ref"])
    unrelated = _elsewhere(ministry_session, ministry_journal, "yunnan", 1, "c" * 64)
    assert unrelated

    assert shipper.ship_pending().matches_received == 1
    assert shipper.ship_pending().matches_received == 0  # held already: nothing new, nothing stored twice
    (pulled,) = _audits(ministry_session, matches.MATCHES_ACTION)  # the empty pulls left no line
    assert (pulled.actor, json.loads(pulled.detail)["returned"]) == ("exchange:beijing", 1)

    reviewer = mint("reviewer", subject="reviewer-1")
    listed = client.get(LIST, headers=reviewer, params={"settled": "false"}).json()
    assert listed["count"] == 1
    (pair,) = listed["data"]
    assert (pair["case"]["id"], pair["other_province"], pair["other_case_id"]) == (
        str(declared["id"]), "shandong", str(shandong))
    assert pair["other_province_code"] == "370000" and pair["finding"] is None
    assert pair["case"]["id_number"] != declared["id_number"]  # masked
    with Session(app.state.ctx.engine) as session:
        entry = last_audit(session)
    assert (entry.actor, entry.action) == ("exchange:ministry", "cross_province_match.received")

    settled = client.post(f"{LIST}/{pair['match_id']}/finding", headers=reviewer,
                          json={"finding": "same_person", "note": "与山东核实：同一人，本省案件保留"})
    assert settled.status_code == 200, settled.text
    assert (settled.json()["finding"], settled.json()["found_by"]) == ("same_person", "reviewer-1")
    assert settled.json()["finding_note"] == "与山东核实：同一人，本省案件保留"
    with Session(app.state.ctx.engine) as session:
        stored = session.get(CrossProvinceMatch, pair["match_id"])
        assert "山东" not in (stored.finding_note_encrypted or "")  # the note may name people: encrypted
        entry = last_audit(session)
    assert (entry.action, json.loads(entry.detail)["finding"]) == ("cross_province_match.settled", "same_person")

    shipper.ship_pending()  # the finding goes to the ministry like any event, the note stays here
    ministry_session.rollback()
    at_ministry = ministry_session.get(PersonMatch, pair["match_id"])
    side = "a" if at_ministry.province_a == "beijing" else "b"
    assert getattr(at_ministry, f"finding_{side}") == "same_person" and getattr(at_ministry, f"settled_{side}_at")
    assert getattr(at_ministry, f"finding_{'b' if side == 'a' else 'a'}") is None  # shandong has not checked yet

    again = client.post(f"{LIST}/{pair['match_id']}/finding", headers=reviewer, json={"finding": "different_people"})
    assert_problem(again, 409, "finding", "match_settled")
    assert client.get(LIST, headers=reviewer, params={"settled": "false"}).json()["count"] == 0
    assert client.get(LIST, headers=reviewer, params={"settled": "true"}).json()["count"] == 1
    assert_problem(client.post(f"{LIST}/999999/finding", headers=reviewer, json={"finding": "same_person"}),
                   404, "match_id", "exists")
    assert_problem(client.post(f"{LIST}/{pair['match_id']}/finding", headers=reviewer, json={"finding": "maybe"}),
                   422, "finding", "enum")


def test_only_reviewers_see_and_settle_pairs(client, mint):
    for role in ("registrar", "provincial-admin", "auditor"):
        headers = mint(role, institution_id=uuid.uuid4()) if role == "registrar" else mint(role)
        assert client.get(LIST, headers=headers).status_code == 403
        assert client.post(f"{LIST}/1/finding", headers=headers, json={"finding": "same_person"}).status_code == 403


def test_the_shipper_pulls_every_page(app, declared, make_shipper, ministry_url, ministry_session, ministry_journal,
                                      monkeypatch):
    monkeypatch.setattr(matches, "PAGE", 1)  # the ministry answers one pair a request
    others = [_elsewhere(ministry_session, ministry_journal, province, 1, declared["person_ref"])
              for province in ("shandong", "yunnan")]
    shipper = make_shipper(ministry_url, journal=app.state.ctx.journal)
    assert shipper.ship_pending().matches_received == 2
    with Session(app.state.ctx.engine) as session:
        held = session.exec(select(CrossProvinceMatch).order_by(CrossProvinceMatch.match_id)).all()
    assert [(m.other_province, m.other_case_id, m.case_id) for m in held] == [
        ("shandong", others[0], declared["id"]), ("yunnan", others[1], declared["id"])]


def test_each_pair_is_seen_from_the_asking_province(ministry_session, ministry_journal):
    beijing, shandong = uuid.uuid4(), uuid.uuid4()
    exchange.receive_batch(ministry_session, batch("beijing", 1, [("case.declared", beijing, case(beijing))]),
                           journal=ministry_journal)
    exchange.receive_batch(ministry_session, batch("shandong", 1, [("case.declared", shandong, case(shandong))]),
                           journal=ministry_journal)
    ministry_session.rollback()
    (for_beijing,) = matches.matches_for(ministry_session, province="beijing", after=0).matches
    (for_shandong,) = matches.matches_for(ministry_session, province="shandong", after=0).matches
    assert (for_beijing.case_id, for_beijing.other_province, for_beijing.other_case_id) == (beijing, "shandong", shandong)
    assert (for_shandong.case_id, for_shandong.other_province, for_shandong.other_case_id) == (shandong, "beijing", beijing)
    assert matches.matches_for(ministry_session, province="yunnan", after=0).matches == []
    assert matches.matches_for(ministry_session, province="beijing", after=for_beijing.id).matches == []


def _ask(url: str, body: dict, keys: Path, *, signature: str | None = None) -> httpx.Response:
    raw = canonical(body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature or BatchSigner(keys).sign(raw)}
    return httpx.post(f"{url}{matches.MATCHES_PATH}", content=raw, headers=headers, timeout=10)


def test_the_ministry_answers_only_signed_fresh_requests_and_audits_refusals(
        ministry_url, ministry_session, province_keys, tmp_path):
    now = datetime.now(UTC)
    fine = {"province": "beijing", "after": 0, "requested_at": now.isoformat()}
    assert _ask(ministry_url, fine, province_keys).json() == {"matches": [], "more": False}

    stranger = tmp_path / "stranger"
    ensure_tenant_keys(stranger)  # a key the ministry never registered
    assert_problem(_ask(ministry_url, fine, stranger), 401, "signature", "exchange_signature")
    assert_problem(_ask(ministry_url, {**fine, "province": "shandong"}, province_keys), 401, "signature",
                   "exchange_signature")  # beijing's key does not speak for shandong
    stale = {**fine, "requested_at": (now - timedelta(minutes=10)).isoformat()}
    assert_problem(_ask(ministry_url, stale, province_keys), 422, "requested_at", "fresh_request")
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.result, json.loads(entry.detail)["status"]) == ("exchange:beijing", "refused", 422)
    assert_problem(_ask(ministry_url, {**fine, "after": -1}, province_keys), 422, "after", "greater_than_equal")
    assert_problem(_ask(ministry_url, {**fine, "cases": []}, province_keys), 422, "cases", "extra_forbidden")


def test_a_refused_pull_stops_no_shipment_and_is_asked_again_next_round(
        app, declared, make_shipper, ministry_url, ministry_session, ministry_journal, monkeypatch):
    from prometheus_client import CollectorRegistry

    from registry.exchange import shipper as shipping
    from registry.exchange.metrics import WorkerMetrics

    other = _elsewhere(ministry_session, ministry_journal, "shandong", 1, declared["person_ref"])
    registry = CollectorRegistry()
    shipper = make_shipper(ministry_url, journal=app.state.ctx.journal, metrics=WorkerMetrics(registry))
    real_now = shipping.utcnow
    monkeypatch.setattr(shipping, "utcnow", lambda: real_now() - timedelta(minutes=10))  # the province's clock is off

    report = shipper.ship_pending()

    assert (report.shipped, report.matches_received) == (2, 0)  # the institution and the case reached the ministry
    assert report.matches_problem.startswith("the ministry refused to return matches (422): requested_at:")
    assert registry.get_sample_value("fsp_exchange_matches_pull_failing") == 1
    assert registry.get_sample_value("fsp_exchange_failures_total", {"reason": "matches"}) == 1
    assert registry.get_sample_value("fsp_exchange_failures_total", {"reason": "rejected"}) == 0

    monkeypatch.setattr(shipping, "utcnow", real_now)  # the clock set right: the next round pulls the pair
    again = shipper.ship_pending()
    assert (again.shipped, again.matches_received, again.matches_problem) == (0, 1, None)
    assert registry.get_sample_value("fsp_exchange_matches_pull_failing") == 0
    with Session(app.state.ctx.engine) as session:
        (held,) = session.exec(select(CrossProvinceMatch)).all()
    assert (held.case_id, held.other_province, held.other_case_id) == (declared["id"], "shandong", other)
