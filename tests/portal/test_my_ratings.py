"""我的办事 · 满意度评价 through the pages: a completed booking offers 评价, the form takes a score and a comment
once; a missing score is refused beside the field with nothing written; a booking not completed yet says so;
another citizen's booking is not found."""
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from citizen_signing import signed_in_citizen
from factories import create_institution, create_resource, end_booking, slot_start
from registry.ratings.models import Rating
from staff_signing import csrf_of


@pytest.fixture
def citizen_for(site) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        yield lambda name: signed_in_citizen(stack, site, name)


@pytest.fixture
def hall(site, site_client, admin) -> dict:
    home = create_institution(site_client, admin, type="funeral_home", name="八宝山殡仪馆")
    token = site.state.ctx.issuer.mint("registrar-1", ["registrar"], institution_id=uuid.UUID(home["id"]))
    hall = create_resource(site_client, {"Authorization": f"Bearer {token}"}, home["id"], name="思源厅", capacity=3)
    return {**hall, "registrar": {"Authorization": f"Bearer {token}"}}


def booked(site, site_client, client: TestClient, hall: dict, *, confirm: bool = True, end: bool = True) -> str:
    """A booking made through the pages, confirmed by the registrar and its slot moved into the past, as asked."""
    day = slot_start()[:10]
    page = client.get("/my/bookings/new", params={"institution": hall["institution_id"], "resource": hall["id"], "on": day})
    made = client.post("/my/bookings/new", data={
        "csrf_token": csrf_of(page.text), "institution": hall["institution_id"], "resource": hall["id"], "on": day,
        "starts_at": slot_start(), "for_name": "张三丰", "for_phone": "13812345678"})
    assert made.status_code == 200, made.text
    booking_id = re.search(r"/my/bookings/([0-9a-f-]{36})/change", client.get("/my/bookings").text).group(1)
    if confirm:
        assert site_client.post(f"/api/v1/bookings/{booking_id}/confirm", headers=hall["registrar"]).status_code == 200
    if end:
        end_booking(site.state.ctx.engine, booking_id)
    return booking_id


def _ratings(site) -> list[Rating]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(Rating)))


def test_a_completed_booking_is_rated_once_through_the_pages(site, site_client, citizen_for, hall):
    citizen = citizen_for("zhang.san")
    booking_id = booked(site, site_client, citizen, hall)
    listed = citizen.get("/my/bookings")
    assert f'href="/my/bookings/{booking_id}/rating">评价<' in listed.text
    page = citizen.get(f"/my/bookings/{booking_id}/rating")
    assert page.status_code == 200 and "<legend" in page.text and '<label for="score">' in page.text

    rated = citizen.post(f"/my/bookings/{booking_id}/rating", follow_redirects=False,
                         data={"csrf_token": csrf_of(page.text), "score": "4", "comment": "服务周到，感谢工作人员"})

    assert rated.status_code == 303 and rated.headers["location"] == f"/my/bookings/{booking_id}/rating?done=1"
    shown = citizen.get(rated.headers["location"])
    assert "感谢您的评价" in shown.text and "4 分" in shown.text and "服务周到，感谢工作人员" in shown.text
    assert "<form method=\"post\" action=\"/my/bookings/" + booking_id + "/rating\"" not in shown.text
    assert "已评价（4 分）" in citizen.get("/my/bookings").text
    [stored] = _ratings(site)
    assert stored.score == 4 and "服务周到" not in stored.comment_encrypted

    again = citizen.post(f"/my/bookings/{booking_id}/rating", data={"csrf_token": csrf_of(page.text), "score": "1"})
    assert again.status_code == 409 and "该服务已评价过" in again.text and len(_ratings(site)) == 1


def test_a_missing_score_is_refused_beside_the_field_and_a_held_comment_said_so(site, site_client, citizen_for, hall):
    citizen = citizen_for("zhang.san")
    booking_id = booked(site, site_client, citizen, hall)
    page = citizen.get(f"/my/bookings/{booking_id}/rating")

    refused = citizen.post(f"/my/bookings/{booking_id}/rating", data={"csrf_token": csrf_of(page.text), "comment": "好"})

    assert refused.status_code == 400 and 'id="score-error"' in refused.text and "请选择评分" in refused.text
    assert ">好</textarea>" in refused.text and _ratings(site) == []
    held = citizen.post(f"/my/bookings/{booking_id}/rating",
                        data={"csrf_token": csrf_of(page.text), "score": "2", "comment": "加微信退钱"})
    assert held.status_code == 200 and "需要工作人员审核" in held.text


def test_a_booking_not_completed_offers_no_rating_and_another_citizens_is_not_found(site, site_client, citizen_for, hall):
    citizen = citizen_for("zhang.san")
    booking_id = booked(site, site_client, citizen, hall, end=False)
    assert f"/my/bookings/{booking_id}/rating" not in citizen.get("/my/bookings").text
    page = citizen.get(f"/my/bookings/{booking_id}/rating")
    assert "该服务尚未完成" in page.text and 'name="score"' not in page.text

    stranger = citizen_for("li.si")
    assert stranger.get(f"/my/bookings/{booking_id}/rating").status_code == 404
    form = stranger.get("/my/")
    assert stranger.post(f"/my/bookings/{booking_id}/rating",
                         data={"csrf_token": csrf_of(form.text), "score": "5"}).status_code == 404
    assert _ratings(site) == []


def test_a_rating_without_the_csrf_token_is_refused(site, site_client, citizen_for, hall):
    citizen = citizen_for("zhang.san")
    booking_id = booked(site, site_client, citizen, hall)
    assert citizen.post(f"/my/bookings/{booking_id}/rating", data={"score": "5"}).status_code == 403
    assert _ratings(site) == []
