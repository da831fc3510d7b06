"""The yearly evaluation scores every institution from its facts in the other domains, by hand-computed
expectation; evaluating unchanged facts changes nothing; every change of list is audited with its reasons and sent
to the ministry without personal data; an admin changes a list only with a reason; a registrar sees only its own
institution's score; the published lists need no token."""
import json
import uuid

from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, count, snapshot
from factories import YEAR, inspection_payload, penalty_payload
from registry.audit.models import AuditEntry
from registry.credit.models import CreditScore
from registry.outbox.models import OutboxEvent

EVALUATE = "/api/v1/credit/evaluations"


def _scores(client, admin) -> dict[str, dict]:
    answer = client.get("/api/v1/credit/scores", params={"year": YEAR}, headers=admin)
    assert answer.status_code == 200, answer.text
    return {score["institution_id"]: score for score in answer.json()["data"]}


def _list_events(session) -> list[dict]:
    session.rollback()
    return [json.loads(e.payload) for e in session.exec(select(OutboxEvent).where(
        OutboxEvent.event_type == "credit.list_changed").order_by(OutboxEvent.seq))]


def test_each_rule_counts_the_facts_of_its_domain_by_hand(client, admin, post, home, upheld_complaint, ratings,
                                                          paid_order):
    graded = home()
    upheld = [upheld_complaint(graded)["number"] for _ in range(2)]
    upheld_complaint(graded, upheld=False)  # closed, not upheld: not counted
    ratings(graded, [5, 5, 5, 4, 4])  # mean 4.6
    overcharged = paid_order(graded, fee_fen=40000, amount_fen=50000)
    paid_order(graded, fee_fen=40000, amount_fen=40000)  # the published fee: no violation
    post("/api/v1/credit/inspections", inspection_payload(graded["id"], result="basically_qualified", findings=[
        {"category": "records", "text": "档案未按期报送"}]), admin, 201)
    warning = post("/api/v1/credit/penalties", penalty_payload(graded["id"]), admin, 201)

    assert post(EVALUATE, {"year": YEAR}, admin)["changed"] >= 1
    score = _scores(client, admin)[graded["id"]]

    parts = {part["rule"]: part for part in score["breakdown"]}
    # upheld 2 × -5; satisfaction 10 × (4.6 - 4); one violation -10; 基本合格 -10; a warning -5
    assert {rule: part["points"] for rule, part in parts.items()} == {
        "upheld_complaint": -10, "satisfaction": 6, "price_violation": -10, "inspection": -10, "penalty": -5}
    assert score["score"] == 71 and score["listing"] is None and score["rules_version"] == "2026.1"
    assert sorted(parts["upheld_complaint"]["facts"]["complaints"]) == sorted(upheld)
    assert (parts["satisfaction"]["facts"]["ratings"], parts["satisfaction"]["facts"]["mean"]) == (5, 4.6)
    assert parts["price_violation"]["facts"]["orders"] == [
        {"order_no": overcharged, "amount_fen": 50000, "published_fen": 40000}]
    assert parts["inspection"]["facts"]["inspection"]["result"] == "basically_qualified"
    assert [p["decision_no"] for p in parts["penalty"]["facts"]["penalties"]] == [warning["decision_no"]]


def test_lists_are_set_audited_with_reasons_sent_on_and_published(client, session, admin, post, home):
    good, bad, plain = home(), home(), home()
    post("/api/v1/credit/inspections", inspection_payload(good["id"]), admin, 201)
    revoked = post("/api/v1/credit/penalties", penalty_payload(bad["id"], kind="licence_revocation"), admin, 201)

    post(EVALUATE, {"year": YEAR}, admin)

    scores = _scores(client, admin)
    assert (scores[good["id"]]["score"], scores[good["id"]]["listing"]) == (100, "red")
    assert (scores[bad["id"]]["score"], scores[bad["id"]]["listing"]) == (35, "black")  # 100 - 5 - 60
    assert (scores[plain["id"]]["score"], scores[plain["id"]]["listing"]) == (95, "red")  # only the missing inspection
    events = {e["institution_id"]: e for e in _list_events(session)}
    assert events[bad["id"]] == {
        "institution_id": bad["id"], "name": bad["name"], "credit_code": bad["credit_code"],
        "region_code": bad["region_code"], "year": YEAR, "listing": "black", "previous": None, "score": 35,
        "reasons": [{"code": "score_below", "text": "得分 35 低于 60 分"},
                    {"code": "serious_penalty", "text": f"受到严重行政处罚（{revoked['decision_no']}）"}],
        "manual": False, "changed_at": events[bad["id"]]["changed_at"]}
    audited = session.exec(select(AuditEntry).where(AuditEntry.action == "credit.list_changed",
                                                    AuditEntry.object_id == bad["id"])).one()
    assert json.loads(audited.detail)["reasons"] == events[bad["id"]]["reasons"]

    published = client.get("/api/v1/credit/lists", params={"year": YEAR})  # no token: public
    assert published.status_code == 200
    assert {e["name"] for e in published.json()["red"]} >= {good["name"], plain["name"]}
    assert [e["name"] for e in published.json()["black"]] == [bad["name"]]


def test_unchanged_facts_change_nothing_and_a_new_fact_moves_the_list(client, session, admin, post, home):
    listed = home()
    post("/api/v1/credit/inspections", inspection_payload(listed["id"]), admin, 201)
    post(EVALUATE, {"year": YEAR}, admin)
    before = snapshot(session, CreditScore)
    scored = session.get(CreditScore, (uuid.UUID(listed["id"]), YEAR))
    evaluated_at = scored.evaluated_at

    again = post(EVALUATE, {"year": YEAR}, admin)

    assert (again["changed"], again["list_changes"]) == (0, 0)
    assert count(session, OutboxEvent) == before[OutboxEvent]
    assert count(session, AuditEntry) == before[AuditEntry] + 1  # the run itself
    assert session.get(CreditScore, (uuid.UUID(listed["id"]), YEAR)).evaluated_at == evaluated_at

    post("/api/v1/credit/penalties", penalty_payload(listed["id"], kind="fine", amount_fen=100000), admin, 201)
    moved = post(EVALUATE, {"year": YEAR}, admin)

    assert (moved["changed"], moved["list_changes"]) == (1, 1)
    left = _list_events(session)[-1]
    assert (left["institution_id"], left["listing"], left["previous"], left["score"]) == (listed["id"], None, "red", 90)
    assert left["reasons"] == [{"code": "not_listed", "text": "得分 90，不符合红名单或黑名单条件"}]


def test_an_admin_changes_a_list_only_with_a_reason_audited_and_sent_on(client, session, admin, post, home):
    listed = home()
    post(EVALUATE, {"year": YEAR}, admin)
    path = f"/api/v1/credit/scores/{listed['id']}/{YEAR}/listing"
    before = snapshot(session, CreditScore)

    assert_problem(client.post(path, json={"listing": "black"}, headers=admin), 422, "reason", "missing")
    assert_refused_and_nothing_written(session, before, CreditScore)
    assert_problem(client.post(path, json={"listing": "red", "reason": "复核"}, headers=admin), 409, "listing",
                   "listing_unchanged")
    assert_problem(client.post(f"/api/v1/credit/scores/{listed['id']}/{YEAR - 1}/listing",
                               json={"listing": "black", "reason": "复核"}, headers=admin), 404, "institution_id", "exists")

    changed = post(path, {"listing": "black", "reason": "经查实存在强制消费行为，列入黑名单"}, admin)

    assert (changed["listing"], changed["listing_manual"]) == ("black", True)
    event = _list_events(session)[-1]
    assert (event["listing"], event["previous"], event["manual"]) == ("black", "red", True)
    assert event["reasons"] == [{"code": "manual", "text": "经查实存在强制消费行为，列入黑名单"}]
    # the facts did not change: the evaluation keeps the admin's decision
    post(EVALUATE, {"year": YEAR}, admin)
    assert _scores(client, admin)[listed["id"]]["listing"] == "black"


def test_a_year_to_come_is_not_evaluated(expect_refusal, admin, home):
    home()
    expect_refusal(EVALUATE, {"year": YEAR + 1}, admin, 422, "year", "not_future", CreditScore)


def test_a_registrar_sees_its_own_institutions_score_and_facts_only(client, mint, admin, post, home):
    own, other = home(), home()
    post("/api/v1/credit/penalties", penalty_payload(other["id"]), admin, 201)
    registrar = mint("registrar", institution_id=uuid.UUID(own["id"]))
    mine = client.get("/api/v1/credit/scores/mine", params={"year": YEAR}, headers=registrar)
    assert mine.status_code == 200 and mine.json() == {"year": YEAR, "score": None}  # not evaluated yet

    post(EVALUATE, {"year": YEAR}, admin)
    mine = client.get("/api/v1/credit/scores/mine", params={"year": YEAR}, headers=registrar).json()["score"]

    assert mine["institution_id"] == own["id"] and mine["score"] == 95
    assert {part["rule"] for part in mine["breakdown"]} == {"upheld_complaint", "satisfaction", "price_violation",
                                                            "inspection", "penalty"}
    assert other["id"] not in json.dumps(mine)
    for path in ("/api/v1/credit/scores", "/api/v1/credit/penalties", "/api/v1/credit/inspections"):
        assert_problem(client.get(path, params={"year": YEAR}, headers=registrar), 403, "authorization", "permission")
