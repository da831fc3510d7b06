"""Online memorials: created by the family with consent recorded, public or by invitation, messages and offerings
moderated by a word filter and a staff review queue, removable by the family (410 Gone, data kept)."""
import json
import uuid

import pytest
from sqlmodel import select

from assertions import assert_problem, last_audit, last_event
from registry.memorials import words
from registry.memorials.models import Memorial, MemorialMessage
from registry.outbox.models import OutboxEvent

MEMORIAL = {"deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01",
            "biography": "一生勤劳，乐于助人。\n晚年喜爱书法。", "visibility": "public", "consented_by": "张明",
            "relation": "child", "consent": True}


@pytest.fixture
def family(mint):
    return mint("citizen", subject="citizen-family")


@pytest.fixture
def memorial(client, family) -> dict:
    response = client.post("/api/v1/my/memorials", json=MEMORIAL, headers=family)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def moderator(mint):
    return mint("provincial-admin", subject="moderator-1")


def post(client, memorial_id, body, code=None):
    suffix = f"?code={code}" if code else ""
    return client.post(f"/api/v1/memorials/{memorial_id}/messages{suffix}", json=body)


def test_the_family_creates_a_public_page_with_consent_recorded(client, session, memorial):
    listed = client.get("/api/v1/memorials?q=桂兰").json()
    page = client.get(f"/api/v1/memorials/{memorial['id']}").json()

    assert memorial["relation"] == "child" and memorial["consented_at"] and memorial["invitation_code"] is None
    assert [m["id"] for m in listed["data"]] == [memorial["id"]]
    assert page["memorial"]["biography"] == MEMORIAL["biography"] and page["messages"] == []
    session.rollback()
    stored = session.get(Memorial, uuid.UUID(memorial["id"]))
    assert "张明" not in stored.consented_by_encrypted
    event = last_event(session)
    assert event.event_type == "memorial.created" and "张" not in event.payload
    assert last_audit(session).actor == "citizen-family"


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"consent": False}, "consent", "consent_required"),
    ({"biography": "<b>好人</b>"}, "biography", "no_markup"),
    ({"birth_date": "2026-01-01"}, "body", "date_order"),
    ({"relation": "friend"}, "relation", "enum"),
])
def test_bad_pages_are_refused_and_nothing_written(expect_refusal, family, change, field, rule):
    expect_refusal("/api/v1/my/memorials", {**MEMORIAL, **change}, family, 422, field, rule, Memorial)


def test_a_clean_message_is_published_a_flagged_one_held_for_review(client, session, memorial, moderator):
    clean = post(client, memorial["id"], {"author_name": "邻居小王", "text": "张奶奶，我们想念您。", "offering": "flowers"})
    flagged = post(client, memorial["id"], {"text": "加 微 信 领取博彩优惠"})
    page = client.get(f"/api/v1/memorials/{memorial['id']}").json()
    queue = client.get("/api/v1/memorial-messages/review", headers=moderator).json()

    assert (clean.status_code, clean.json()["status"]) == (201, "published")
    assert flagged.json()["status"] == "pending"
    assert [m["text"] for m in page["messages"]] == ["张奶奶，我们想念您。"]
    assert page["offerings"]["flowers"] == 1 and page["offerings"]["candle"] == 0
    assert [(m["id"], m["flagged"]) for m in queue["data"]] == [(flagged.json()["id"], "加微信,博彩")]
    event = last_event(session)
    assert event.event_type == "memorial_message.posted" and "博彩" not in event.payload
    assert json.loads(event.payload)["status"] == "pending"


def test_staff_approve_or_reject_held_messages_audited(client, session, memorial, moderator):
    held = [post(client, memorial["id"], {"text": text}).json()["id"] for text in ("赌博", "诈骗")]
    approved = client.post(f"/api/v1/memorial-messages/{held[0]}/review", json={"decision": "approve"},
                           headers=moderator)
    rejected = client.post(f"/api/v1/memorial-messages/{held[1]}/review", json={"decision": "reject"},
                           headers=moderator)
    again = client.post(f"/api/v1/memorial-messages/{held[1]}/review", json={"decision": "approve"},
                        headers=moderator)
    page = client.get(f"/api/v1/memorials/{memorial['id']}").json()

    assert approved.json()["status"] == "published" and rejected.json()["status"] == "rejected"
    assert_problem(again, 409, "decision", "message_status")
    assert [m["id"] for m in page["messages"]] == [held[0]]
    assert client.get("/api/v1/memorial-messages/review", headers=moderator).json()["count"] == 0
    session.rollback()
    reviews = [e for e in session.exec(select(OutboxEvent)) if e.event_type == "memorial_message.reviewed"]
    assert len(reviews) == 2


def test_an_invitation_only_page_needs_its_code_and_is_never_listed(client, family):
    created = client.post("/api/v1/my/memorials", json={**MEMORIAL, "visibility": "invitation"}, headers=family).json()
    path = f"/api/v1/memorials/{created['id']}"

    assert client.get("/api/v1/memorials").json()["count"] == 0
    assert_problem(client.get(path), 404, "memorial_id", "exists")
    assert client.get(f"{path}?code=AAAA-BBBB-CCCC").status_code == 404
    assert client.get(f"{path}?code={created['invitation_code']}").status_code == 200
    assert post(client, created["id"], {"offering": "candle"}).status_code == 404
    assert post(client, created["id"], {"offering": "candle"}, code=created["invitation_code"]).status_code == 201


def test_the_family_removes_messages_and_the_page_which_then_is_gone(client, session, mint, family, memorial):
    message = post(client, memorial["id"], {"text": "一路走好"}).json()
    stranger = mint("citizen", subject="citizen-other")

    not_theirs = client.post(f"/api/v1/my/memorials/{memorial['id']}/remove", headers=stranger)
    removed_message = client.post(f"/api/v1/my/memorials/{memorial['id']}/messages/{message['id']}/remove",
                                  headers=family)
    shown = client.get(f"/api/v1/memorials/{memorial['id']}").json()["messages"]
    removed = client.post(f"/api/v1/my/memorials/{memorial['id']}/remove", headers=family)
    gone = client.get(f"/api/v1/memorials/{memorial['id']}")

    assert_problem(not_theirs, 404, "memorial_id", "exists")
    assert removed_message.json()["status"] == "removed" and shown == []
    assert removed.json()["status"] == "removed"
    assert_problem(gone, 410, "memorial_id", "memorial_removed")
    assert client.get("/api/v1/memorials").json()["count"] == 0
    session.rollback()
    assert session.get(Memorial, uuid.UUID(memorial["id"])) is not None  # kept for the retention period
    assert session.get(MemorialMessage, uuid.UUID(message["id"])) is not None


def test_messages_from_one_client_are_limited(app, client, memorial):
    answers = [post(client, memorial["id"], {"offering": "incense"}).status_code
               for _ in range(app.state.ctx.memorial_messages.max_failures + 1)]

    assert answers[:-1] == [201] * app.state.ctx.memorial_messages.max_failures
    assert_problem(post(client, memorial["id"], {"offering": "incense"}), 429, "body", "too_many_messages")


def test_a_message_needs_words_or_an_offering_and_plain_text(client, memorial):
    assert_problem(post(client, memorial["id"], {}), 422, "body", "message_or_offering")
    assert_problem(post(client, memorial["id"], {"text": "<a href=x>点我</a>"}), 422, "text", "no_markup")
    assert_problem(post(client, memorial["id"], {"offering": "money"}), 422, "offering", "enum")


def test_the_word_list_is_a_file_in_the_repository_matched_across_spacing_and_width():
    assert words.found_in("正常的怀念") == []
    assert words.found_in("ＤＡＩ 代开 发票") == ["代开发票"]


def test_the_family_reads_its_own_invitation_page_with_held_messages_and_another_family_gets_404(client, mint, family):
    invitation = client.post("/api/v1/my/memorials", json={**MEMORIAL, "visibility": "invitation"}, headers=family).json()
    kept = post(client, invitation["id"], {"text": "永远怀念"}, code=invitation["invitation_code"]).json()
    held = post(client, invitation["id"], {"text": "赌博"}, code=invitation["invitation_code"]).json()
    client.post(f"/api/v1/my/memorials/{invitation['id']}/messages/{kept['id']}/remove", headers=family)

    own = client.get(f"/api/v1/my/memorials/{invitation['id']}", headers=family)

    assert own.status_code == 200, own.text
    assert own.json()["memorial"]["visibility"] == "invitation"
    assert [(m["id"], m["status"]) for m in own.json()["messages"]] == [(held["id"], "pending")]
    stranger = mint("citizen", subject="citizen-stranger")
    assert_problem(client.get(f"/api/v1/my/memorials/{invitation['id']}", headers=stranger), 404, "memorial_id", "exists")
