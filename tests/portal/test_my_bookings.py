"""我的办事 · 网上预约 through the pages, as a browser without script would: book a slot (the query code once),
see it listed, change it, cancel it; a full slot refused beside the field with nothing written; another
citizen's booking not found; a form without the CSRF token refused."""
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from citizen_signing import citizen_sign_in
from factories import create_institution, create_resource, end_booking, remote_farewell_payload, slot_start
from registry.reservations.models import Booking
from staff_signing import BASE, csrf_of


@pytest.fixture
def browser_client(site) -> Iterator[Callable[[], TestClient]]:
    clients = []

    def make() -> TestClient:
        client = TestClient(site, base_url=BASE)
        client.__enter__()
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def hall(site, site_client, admin) -> dict:
    """A funeral home's farewell hall, one place a slot."""
    home = create_institution(site_client, admin, type="funeral_home", name="八宝山殡仪馆")
    token = site.state.ctx.issuer.mint("registrar-1", ["registrar"], institution_id=uuid.UUID(home["id"]))
    return create_resource(site_client, {"Authorization": f"Bearer {token}"}, home["id"], name="思源厅", capacity=1)


def _signed_in(browser_client, name: str) -> TestClient:
    client = browser_client()
    assert citizen_sign_in(client, name).status_code == 303
    return client


def _book(client: TestClient, hall: dict, *, days: int = 1, hour: int = 9):
    day = slot_start(days, hour)[:10]
    page = client.get("/my/bookings/new", params={"institution": hall["institution_id"], "resource": hall["id"],
                                                  "on": day})
    assert page.status_code == 200
    return page, client.post("/my/bookings/new", data={
        "csrf_token": csrf_of(page.text), "institution": hall["institution_id"], "resource": hall["id"], "on": day,
        "starts_at": slot_start(days, hour), "for_name": "张三丰", "for_phone": "13812345678"})


def _bookings(site) -> list[Booking]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(Booking)))


def _id_of(page_text: str) -> str:
    return re.search(r"/my/bookings/([0-9a-f-]{36})/change", page_text).group(1)


def test_my_area_offers_bookings(browser_client):
    home = _signed_in(browser_client, "zhang.san").get("/my/")
    assert 'href="/my/bookings"' in home.text and "我的预约" in home.text


def test_book_list_change_cancel(site, browser_client, hall):
    client = _signed_in(browser_client, "zhang.san")
    picker = client.get("/my/bookings/new", params={"institution": hall["institution_id"]})
    assert "八宝山殡仪馆" in picker.text and "思源厅（告别厅）" in picker.text
    form, made = _book(client, hall)
    assert "09:00–10:00" in form.text and "余 1 个名额" in form.text
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    code = re.search(r'<p class="query-code"><strong>([^<]+)</strong>', made.text).group(1)
    assert "只显示这一次" in made.text and "已预留，待确认" in made.text
    listed = client.get("/my/bookings")
    assert "思源厅（告别厅）" in listed.text and "已预留，待确认" in listed.text and "预留至" in listed.text
    assert "张**" in listed.text and code not in listed.text and "13812345678" not in listed.text
    booking_id = _id_of(listed.text)

    day = slot_start(2, 11)[:10]
    change_page = client.get(f"/my/bookings/{booking_id}/change", params={"on": day})
    assert change_page.status_code == 200 and "11:00–12:00" in change_page.text
    moved = client.post(f"/my/bookings/{booking_id}/change", data={
        "csrf_token": csrf_of(change_page.text), "on": day, "starts_at": slot_start(2, 11)}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/my/bookings?done=changed"
    listed = client.get(moved.headers["location"])
    assert "预约时段已变更" in listed.text and f"{day} 11:00–12:00" in listed.text

    cancelled = client.post(f"/my/bookings/{booking_id}/cancel", data={"csrf_token": csrf_of(listed.text),
                                                                       "reason": "家人另有安排"}, follow_redirects=False)
    assert cancelled.status_code == 303
    listed = client.get(cancelled.headers["location"])
    assert "预约已取消" in listed.text and "已取消" in listed.text and f"/my/bookings/{booking_id}/change" not in listed.text
    [row] = _bookings(site)
    assert row.status == "cancelled" and row.cancel_reason == "家人另有安排"


def test_a_full_slot_is_refused_beside_the_field_and_nothing_is_written(site, browser_client, hall):
    assert _book(_signed_in(browser_client, "zhang.san"), hall)[1].status_code == 200
    _, refused = _book(_signed_in(browser_client, "li.si"), hall)
    assert refused.status_code == 409
    assert re.search(r'id="starts_at-error">.*该时段已约满', refused.text)
    assert 'value="张三丰"' in refused.text  # what was typed is kept
    assert len(_bookings(site)) == 1


def test_a_change_to_a_full_slot_leaves_the_booking_where_it_was(site, browser_client, hall):
    _book(_signed_in(browser_client, "zhang.san"), hall, hour=10)
    mine = _signed_in(browser_client, "li.si")
    _book(mine, hall, hour=9)
    booking_id = _id_of(mine.get("/my/bookings").text)
    page = mine.get(f"/my/bookings/{booking_id}/change")
    refused = mine.post(f"/my/bookings/{booking_id}/change", data={
        "csrf_token": csrf_of(page.text), "starts_at": slot_start(1, 10)})
    assert refused.status_code == 409 and re.search(r'id="starts_at-error">.*该时段已约满', refused.text)
    with Session(site.state.ctx.engine) as db:
        assert db.get(Booking, uuid.UUID(booking_id)).starts_at.hour == 1  # 09:00 China time


def test_another_citizens_booking_is_not_found(browser_client, hall):
    owner = _signed_in(browser_client, "zhang.san")
    _book(owner, hall)
    booking_id = _id_of(owner.get("/my/bookings").text)
    stranger = _signed_in(browser_client, "li.si")
    assert "思源厅" not in stranger.get("/my/bookings").text
    assert stranger.get(f"/my/bookings/{booking_id}/change").status_code == 404
    assert stranger.get(f"/my/bookings/{booking_id}/farewell").status_code == 404
    token = csrf_of(stranger.get("/my/bookings").text)
    answer = stranger.post(f"/my/bookings/{booking_id}/cancel", data={"csrf_token": token})
    assert answer.status_code == 404 and "未找到该预约" in answer.text
    assert "已预留，待确认" in owner.get("/my/bookings").text


def test_a_form_without_the_csrf_token_is_refused(site, browser_client, hall):
    client = _signed_in(browser_client, "zhang.san")
    answer = client.post("/my/bookings/new", data={"resource": hall["id"], "starts_at": slot_start(),
                                                   "for_name": "张三丰", "for_phone": "13812345678"})
    assert answer.status_code == 403 and _bookings(site) == []


def test_remote_farewell_shows_the_invitation_codes_once(browser_client, hall):
    client = _signed_in(browser_client, "zhang.san")
    _book(client, hall)
    booking_id = _id_of(client.get("/my/bookings").text)
    page = client.get(f"/my/bookings/{booking_id}/farewell")
    assert page.status_code == 200 and 'name="invitee_name_1"' in page.text
    payload = remote_farewell_payload()
    start = datetime.fromisoformat(payload["starts_at"]).strftime("%Y-%m-%dT%H:%M")
    end = datetime.fromisoformat(payload["ends_at"]).strftime("%Y-%m-%dT%H:%M")
    data = {"csrf_token": csrf_of(page.text), "join_link": "http://meeting.example.cn/j/1", "starts_at": start,
            "ends_at": end, "invitee_name_1": "李四", "invitee_phone_1": "13900001111",
            "invitee_name_2": "王五", "invitee_phone_2": "123"}
    refused = client.post(f"/my/bookings/{booking_id}/farewell", data=data)
    assert refused.status_code == 400
    assert 'id="join_link-error"' in refused.text and 'id="invitee_phone_2-error"' in refused.text
    saved = client.post(f"/my/bookings/{booking_id}/farewell",
                        data=data | {"join_link": payload["join_link"], "invitee_phone_2": "13700002222"})
    assert saved.status_code == 200
    codes = re.findall(r'<strong class="query-code">([^<]+)</strong>', saved.text)
    assert len(codes) == 2 and "只显示这一次" in saved.text
    again = client.get(f"/my/bookings/{booking_id}/farewell")
    assert "已邀请 2 人" in again.text and not any(code in again.text for code in codes)
    assert "已设置远程告别" in client.get("/my/bookings").text


def test_a_booking_whose_time_has_passed_offers_no_change_or_cancel(site, site_client, browser_client, hall):
    client = _signed_in(browser_client, "citizen-0001")
    _book(client, hall, hour=9)
    _book(client, hall, days=2, hour=10)
    past, coming = sorted(_bookings(site), key=lambda booking: booking.starts_at)
    registrar = {"Authorization": "Bearer " + site.state.ctx.issuer.mint(
        "registrar-1", ["registrar"], institution_id=uuid.UUID(hall["institution_id"]))}
    for booking in (past, coming):
        assert site_client.post(f"/api/v1/bookings/{booking.id}/confirm", headers=registrar).status_code == 200
    end_booking(site.state.ctx.engine, past.id)

    page = client.get("/my/bookings").text

    assert f"/my/bookings/{past.id}/change" not in page and f"/my/bookings/{past.id}/cancel" not in page
    assert f"/my/bookings/{coming.id}/change" in page and f"/my/bookings/{coming.id}/cancel" in page
    assert page.count("变更时段") == 1 and page.count("取消预约") == 1
