"""Policies, guides and notices: provincial admins write, publish, edit and withdraw them, every write audited and
what the public sees changing sent to the outbox; the public reads only what is published."""
import json
import uuid

import pytest
from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, count, last_audit, last_event, snapshot
from factories import create_publication, publication_payload
from registry.exchange.outbound import batch_body
from registry.outbox.models import OutboxEvent
from registry.publications.models import MAX_CONTENT, MAX_SUMMARY, Publication

PUBLICATIONS = "/api/v1/publications"


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")



def test_a_draft_is_audited_but_neither_public_nor_sent(client, session, admin):
    events = count(session, OutboxEvent)

    draft = create_publication(client, admin)

    assert draft["status"] == "draft" and draft["published_at"] is None
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id) == ("admin-1", "publication.create", draft["id"])
    assert count(session, OutboxEvent) == events  # a draft stays in the province
    assert client.get(f"{PUBLICATIONS}/{draft['id']}").status_code == 404
    assert client.get(PUBLICATIONS).json() == {"data": [], "count": 0}
    staff = client.get(f"{PUBLICATIONS}/all", params={"status": "draft"}, headers=admin).json()
    assert [row["id"] for row in staff["data"]] == [draft["id"]]
    assert client.get(f"{PUBLICATIONS}/all/{draft['id']}", headers=admin).json()["title"] == draft["title"]


def test_publishing_makes_it_public_and_sends_it_to_the_ministry(client, session, admin):
    draft = create_publication(client, admin)

    published = client.post(f"{PUBLICATIONS}/{draft['id']}/publish", headers=admin)

    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published" and body["published_at"].endswith("+08:00")
    assert client.get(f"{PUBLICATIONS}/{draft['id']}").json() == body
    assert last_audit(session).action == "publication.publish"
    event = last_event(session)
    assert (event.event_type, event.aggregate_type, event.aggregate_id) == (
        "publication.published", "publication", draft["id"])
    assert json.loads(event.payload)["content"] == publication_payload()["content"]


def test_editing_a_published_one_keeps_it_published_and_records_the_change(client, session, admin):
    published = create_publication(client, admin, publish=True)

    edited = client.patch(f"{PUBLICATIONS}/{published['id']}", headers=admin,
                          json={"title": "遗体火化办理指南（2026年修订）", "document_number": None})

    assert edited.status_code == 200, edited.text
    read = client.get(f"{PUBLICATIONS}/{published['id']}").json()
    assert read["status"] == "published" and read["title"] == "遗体火化办理指南（2026年修订）"
    assert read["document_number"] is None and read["published_at"] == published["published_at"]
    assert read["updated_at"] > published["updated_at"]
    entry = last_audit(session)
    assert entry.action == "publication.update" and json.loads(entry.detail)["fields"] == ["document_number", "title"]
    event = last_event(session)
    assert event.event_type == "publication.updated" and json.loads(event.payload)["title"] == read["title"]


def test_withdrawn_is_kept_with_its_reason_and_no_longer_public(client, session, admin):
    published = create_publication(client, admin, publish=True)
    path = f"{PUBLICATIONS}/{published['id']}"

    withdrawn = client.post(f"{path}/withdraw", headers=admin, json={"reason": "已被新版指南取代"})

    assert withdrawn.status_code == 200, withdrawn.text
    assert client.get(path).status_code == 404
    assert client.get(PUBLICATIONS).json()["count"] == 0
    kept = client.get(f"{PUBLICATIONS}/all/{published['id']}", headers=admin).json()
    assert (kept["status"], kept["withdrawal_reason"]) == ("withdrawn", "已被新版指南取代")
    event = last_event(session)
    assert event.event_type == "publication.withdrawn" and json.loads(event.payload)["withdrawal_reason"] == "已被新版指南取代"
    assert last_audit(session).action == "publication.withdraw"


def test_the_public_list_is_newest_first_filtered_searched_and_paged(client, admin):
    first = create_publication(client, admin, publish=True, category="policy", title="北京市殡葬管理条例")
    guide = create_publication(client, admin, publish=True, category="guide", title="骨灰安放办理指南")
    newest = create_publication(client, admin, publish=True, category="notice", title="清明节祭扫服务安排的通知")
    create_publication(client, admin, category="notice", title="未发布的通知")

    everything = client.get(PUBLICATIONS).json()
    guides = client.get(PUBLICATIONS, params={"category": "guide"}).json()
    searched = client.get(PUBLICATIONS, params={"q": "条例"}).json()
    second_page = client.get(PUBLICATIONS, params={"page": 2, "limit": 2}).json()

    assert [row["id"] for row in everything["data"]] == [newest["id"], guide["id"], first["id"]]
    assert everything["count"] == 3
    assert [row["id"] for row in guides["data"]] == [guide["id"]] and guides["count"] == 1
    assert [row["title"] for row in searched["data"]] == ["北京市殡葬管理条例"]
    assert [row["id"] for row in second_page["data"]] == [first["id"]] and second_page["count"] == 3


@pytest.mark.parametrize(("override", "field", "rule"), [
    ({"content": "<p>一、办理条件</p>"}, "content", "no_markup"),
    ({"content": "正文\n<script>alert(1)</script>"}, "content", "no_markup"),
    ({"summary": "<!-- 注释 -->摘要"}, "summary", "no_markup"),
    ({"title": ""}, "title", "string_too_short"),
    ({"title": "标\u202e题"}, "title", "plain_text"),
    ({"category": "law"}, "category", "enum"),
    ({"issuing_authority": None}, "issuing_authority", "string_type"),
    ({"content": "字" * (MAX_CONTENT + 1)}, "content", "string_too_long"),
    ({"effective_date": "2026-13-01"}, "effective_date", "date_from_datetime_parsing"),
    ({"status": "published"}, "status", "extra_forbidden"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_written(client, session, admin, override, field, rule):
    before = snapshot(session, Publication)

    response = client.post(PUBLICATIONS, json=publication_payload(**override), headers=admin)

    body = assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Publication)
    assert all(problem["message"].isascii() is False for problem in body["errors"])  # worded in Chinese


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({}, "body", "nothing_to_change"),
    ({"title": None}, "title", "missing"),
    ({"content": "<b>加粗</b>"}, "content", "no_markup"),
])
def test_a_bad_edit_changes_nothing(client, session, admin, body, field, rule):
    published = create_publication(client, admin, publish=True)
    before = snapshot(session, Publication)

    response = client.patch(f"{PUBLICATIONS}/{published['id']}", json=body, headers=admin)

    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Publication)
    assert client.get(f"{PUBLICATIONS}/{published['id']}").json() == published


def test_the_status_flows_one_way(client, session, admin):
    draft = create_publication(client, admin)
    published = create_publication(client, admin, publish=True)
    client.post(f"{PUBLICATIONS}/{published['id']}/withdraw", headers=admin, json={"reason": "政策废止"})
    before = snapshot(session, Publication)

    withdraw_draft = client.post(f"{PUBLICATIONS}/{draft['id']}/withdraw", headers=admin, json={"reason": "不需要"})
    publish_again = client.post(f"{PUBLICATIONS}/{published['id']}/publish", headers=admin)
    edit_withdrawn = client.patch(f"{PUBLICATIONS}/{published['id']}", headers=admin, json={"title": "新标题"})

    for response in (withdraw_draft, publish_again, edit_withdrawn):
        body = assert_problem(response, 409, "status", "publication_status")
        assert "草稿可以发布" in body["errors"][0]["message"]
    assert count(session, Publication) == before[Publication]
    assert count(session, OutboxEvent) == before[OutboxEvent]


def test_only_provincial_admins_write_and_read_drafts(client, session, admin, mint):
    draft = create_publication(client, admin)
    before = snapshot(session, Publication)
    others = [mint(role) for role in ("registrar", "reviewer", "auditor", "system-admin", "ministry-operator")]

    answers = [client.post(PUBLICATIONS, json=publication_payload(), headers=headers) for headers in others]
    answers += [client.post(f"{PUBLICATIONS}/{draft['id']}/publish", headers=headers) for headers in others]
    answers += [client.get(f"{PUBLICATIONS}/all", headers=headers) for headers in others]
    anonymous = client.post(PUBLICATIONS, json=publication_payload())

    assert {response.status_code for response in answers} == {403}
    assert anonymous.status_code == 401
    assert last_audit(session).result == "refused"
    assert count(session, Publication) == before[Publication]
    assert count(session, OutboxEvent) == before[OutboxEvent]
    assert client.get(f"{PUBLICATIONS}/{draft['id']}").status_code == 404


def test_an_unknown_publication_is_404(client, admin):
    missing = uuid.uuid4()

    assert_problem(client.get(f"{PUBLICATIONS}/{missing}"), 404, "publication_id", "exists")
    assert_problem(client.post(f"{PUBLICATIONS}/{missing}/publish", headers=admin), 404, "publication_id", "exists")
    assert_problem(client.get(f"{PUBLICATIONS}/all/{missing}", headers=admin), 404, "publication_id", "exists")


def test_windows_line_ends_are_stored_as_paragraph_breaks(client, admin):
    made = create_publication(client, admin, content="第一段。\r\n第二段。\r第三段。")

    assert made["content"] == "第一段。\n第二段。\n第三段。"


def test_the_longest_document_still_reaches_the_ministry(client, session, admin, settings):
    """Each event must fit one exchange batch, or the province's outbox stops shipping at it: the longest document,
    in characters of four UTF-8 bytes (CJK Extension B), published, edited and withdrawn, fits."""
    wide = "\U00020000"  # 𠀀
    longest = publication_payload(title=wide * 200, document_number=wide * 64, issuing_authority=wide * 100,
                                  summary=wide * MAX_SUMMARY, content=wide * MAX_CONTENT)
    made = client.post(PUBLICATIONS, content=json.dumps(longest, ensure_ascii=False).encode(),
                       headers={**admin, "content-type": "application/json"})
    assert made.status_code == 201, made.text
    path = f"{PUBLICATIONS}/{made.json()['id']}"
    assert client.post(f"{path}/publish", headers=admin).status_code == 200
    assert client.patch(path, headers=admin, json={"effective_date": "2026-02-01"}).status_code == 200
    assert client.post(f"{path}/withdraw", headers=admin, json={"reason": wide * 500}).status_code == 200

    session.rollback()
    events = session.exec(select(OutboxEvent).where(OutboxEvent.aggregate_id == made.json()["id"])).all()
    assert [event.event_type for event in events] == ["publication.published", "publication.updated",
                                                      "publication.withdrawn"]
    for event in events:
        batch_body([event], province="beijing", province_code="110000", max_bytes=settings.exchange_max_batch_bytes)
