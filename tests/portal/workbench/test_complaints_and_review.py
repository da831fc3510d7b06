"""Complaints and the review of memorial messages in the workbench: the queue overdue first, assign, answer and
close through the registry's API with refusals in place; held memorial messages approved or rejected."""
import uuid
from datetime import timedelta

from sqlmodel import Session

from assertions import text_of
from registry.complaints.models import Complaint
from staff_signing import csrf_of

COMPLAINT = {"category": "pricing", "text": "骨灰盒价格未公示，被收取高价。", "contact": "13900001111"}


def _citizen(site, subject="citizen-0001"):
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(subject, ['citizen'])}"}


def _file(site, site_client, institution_id) -> dict:
    made = site_client.post("/api/v1/my/complaints", json={**COMPLAINT, "institution_id": institution_id},
                            headers=_citizen(site))
    assert made.status_code == 201, made.text
    return made.json()


def _post(client, path: str, data: dict, *, page: str):
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data}, follow_redirects=False)


def test_the_queue_shows_overdue_complaints_first_and_filters(site, site_client, staff_client, institution_id):
    fresh = _file(site, site_client, institution_id)
    late = _file(site, site_client, institution_id)
    with Session(site.state.ctx.engine) as session:  # as if filed long ago: its time limit has passed
        row = session.get(Complaint, uuid.UUID(late["id"]))
        row.due_on -= timedelta(days=60)
        session.add(row)
        session.commit()
    admin = staff_client("provincial-admin")

    page = text_of(admin.get("/workbench/complaints").text)
    overdue_only = text_of(admin.get("/workbench/complaints?overdue=true").text)

    assert page.index(late["number"]) < page.index(fresh["number"])
    assert "逾期，省级督办 （已逾期）" in page and "八宝山殡仪馆" in page
    assert late["number"] in overdue_only and fresh["number"] not in overdue_only
    assert "投诉处理" in admin.get("/workbench/").text


def test_assigned_answered_by_the_institution_and_closed(site, site_client, staff_client, institution_id):
    filed = _file(site, site_client, institution_id)
    admin, registrar = staff_client("provincial-admin"), staff_client("registrar", institution_id)
    path = f"/workbench/complaints/{filed['id']}"

    assigned = _post(admin, f"{path}/assign", {}, page=path)
    empty = _post(registrar, f"{path}/answer", {"answer": ""}, page=path)
    answered = _post(registrar, f"{path}/answer", {"answer": "经核实，已补充公示并退还差价。"}, page=path)
    unchosen = _post(admin, f"{path}/close", {"upheld": ""}, page=path)
    closed = _post(admin, f"{path}/close", {"upheld": "true"}, page=path)

    assert assigned.status_code == 303 and assigned.headers["location"].endswith("?done=assign")
    assert empty.status_code == 400 and 'id="answer-error"' in empty.text
    assert answered.status_code == 303
    assert unchosen.status_code == 400 and 'id="upheld-error"' in unchosen.text
    assert closed.status_code == 303
    shown = text_of(admin.get(closed.headers["location"]).text)
    assert "已办结" in shown and "属实" in shown and "已补充公示并退还差价" in shown and "139****1111" in shown


def test_another_institutions_registrar_cannot_open_it(site, site_client, admin, staff_client, institution_id):
    from factories import institution_payload
    filed = _file(site, site_client, institution_id)
    other = site_client.post("/api/v1/institutions", headers=admin, json=institution_payload()).json()["id"]

    stranger = staff_client("registrar", other, username="registrar-2")

    assert stranger.get(f"/workbench/complaints/{filed['id']}").status_code == 404
    assert filed["number"] not in stranger.get("/workbench/complaints").text
    assert stranger.get("/workbench/memorial-messages").status_code == 403


def test_held_memorial_messages_are_approved_or_rejected(site, site_client, staff_client):
    memorial = site_client.post("/api/v1/my/memorials", headers=_citizen(site, "family-1"), json={
        "deceased_name": "李秀英", "death_date": "2025-04-01", "consented_by": "李强", "relation": "child",
        "consent": True}).json()
    held = [site_client.post(f"/api/v1/memorials/{memorial['id']}/messages", json={"text": text}).json()
            for text in ("加微信送花圈", "博彩广告")]
    admin = staff_client("provincial-admin")

    queue = admin.get("/workbench/memorial-messages").text
    approved = _post(admin, f"/workbench/memorial-messages/{held[0]['id']}/review", {"decision": "approve"},
                     page="/workbench/memorial-messages")
    rejected = _post(admin, f"/workbench/memorial-messages/{held[1]['id']}/review", {"decision": "reject"},
                     page="/workbench/memorial-messages")
    again = _post(admin, f"/workbench/memorial-messages/{held[1]['id']}/review", {"decision": "approve"},
                  page="/workbench/memorial-messages")

    assert "李秀英" in queue and "加微信" in queue and "待审核留言 2 条" in text_of(queue)
    assert approved.status_code == 303 and "留言已发布" in admin.get(approved.headers["location"]).text
    assert rejected.status_code == 303
    assert again.status_code == 409 and "已审核" in again.text
    shown = site_client.get(f"/api/v1/memorials/{memorial['id']}").json()["messages"]
    assert [m["text"] for m in shown] == ["加微信送花圈"]


def _rated_with(site, site_client, institution_id, comment: str, *, hour: int) -> dict:
    """A confirmed booking of the institution, its time passed, rated by its citizen with `comment`."""
    from factories import booking_payload, create_resource, end_booking, slot_start

    registrar = {"Authorization": "Bearer " + site.state.ctx.issuer.mint(
        "registrar-1", ["registrar"], institution_id=uuid.UUID(institution_id))}
    hall = create_resource(site_client, registrar, institution_id, name=f"厅{hour}", capacity=3)
    booking = site_client.post("/api/v1/my/bookings", headers=_citizen(site),
                               json=booking_payload(hall["id"], starts_at=slot_start(hour=hour))).json()
    assert site_client.post(f"/api/v1/bookings/{booking['id']}/confirm", headers=registrar).status_code == 200
    end_booking(site.state.ctx.engine, booking["id"])
    rated = site_client.post(f"/api/v1/my/bookings/{booking['id']}/rating", headers=_citizen(site),
                             json={"score": 2, "comment": comment})
    assert rated.status_code == 201, rated.text
    return {**rated.json(), "number": booking["number"]}


def test_held_rating_comments_are_published_or_rejected(site, site_client, staff_client, institution_id):
    held = [_rated_with(site, site_client, institution_id, text, hour=hour)
            for text, hour in (("加微信退钱", 9), ("博彩广告", 10))]
    fine = _rated_with(site, site_client, institution_id, "服务周到", hour=11)
    admin = staff_client("provincial-admin")
    page = "/workbench/memorial-messages"

    queue = text_of(admin.get(page).text)
    published = _post(admin, f"{page}/ratings/{held[0]['id']}/review", {"decision": "approve"}, page=page)
    rejected = _post(admin, f"{page}/ratings/{held[1]['id']}/review", {"decision": "reject"}, page=page)
    again = _post(admin, f"{page}/ratings/{held[1]['id']}/review", {"decision": "approve"}, page=page)
    not_held = _post(admin, f"{page}/ratings/{fine['id']}/review", {"decision": "reject"}, page=page)

    assert "待审核评价 2 条" in queue and held[0]["number"] in queue and "加微信退钱" in queue
    assert fine["number"] not in queue
    assert published.status_code == 303 and "评价内容已公开" in admin.get(published.headers["location"]).text
    assert rejected.status_code == 303 and "评价内容不予公开" in admin.get(rejected.headers["location"]).text
    assert again.status_code == 409 and not_held.status_code == 409
    assert "没有待审核的评价内容" in text_of(admin.get(page).text)
    own = site_client.get("/api/v1/my/ratings", headers=_citizen(site)).json()["data"]
    assert {r["comment"]: r["comment_status"] for r in own} == {
        "加微信退钱": "published", "博彩广告": "rejected", "服务周到": "published"}


def test_a_registrar_cannot_review_rating_comments(site, site_client, staff_client, institution_id):
    held = _rated_with(site, site_client, institution_id, "加微信退钱", hour=9)
    registrar = staff_client("registrar", institution_id)

    answer = registrar.post(f"/workbench/memorial-messages/ratings/{held['id']}/review",
                            data={"csrf_token": csrf_of(registrar.get("/workbench/ratings").text), "decision": "approve"})

    assert answer.status_code == 403
    assert site_client.get("/api/v1/my/ratings", headers=_citizen(site)).json()["data"][0]["comment_status"] == "held"
