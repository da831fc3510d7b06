"""我的办事 · 我的纪念馆 through the pages: the family creates a page with consent (an invitation-only one shows its
code once), lists it, removes a message on it and removes it; a form without consent keeps what was typed and
writes nothing; another family's page is not found."""
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from citizen_signing import signed_in_citizen
from registry.memorials.models import Memorial
from staff_signing import csrf_of

FORM = {"deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01", "biography": "一生勤劳。",
        "visibility": "public", "consented_by": "张明", "relation": "child", "consent": "yes"}


@pytest.fixture
def citizen_for(site) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        yield lambda name: signed_in_citizen(stack, site, name)


def _create(client: TestClient, **changes):
    page = client.get("/my/memorials/new")
    assert page.status_code == 200
    return client.post("/my/memorials/new", data={"csrf_token": csrf_of(page.text), **FORM, **changes})


def _memorials(site) -> list[Memorial]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(Memorial)))


def test_my_area_offers_my_memorials_and_the_form_asks_for_consent(citizen_for):
    citizen = citizen_for("zhang.san")
    assert 'href="/my/memorials"' in citizen.get("/my/").text
    form = citizen.get("/my/memorials/new").text
    assert '<input type="checkbox" id="consent" name="consent" value="yes">' in form and '<label for="consent">' in form
    assert '<label class="label" for="deceased_name">' in form and "<legend" in form


def test_a_public_memorial_is_created_listed_and_removed(site, citizen_for):
    citizen = citizen_for("zhang.san")
    created = _create(citizen)
    assert created.status_code == 201, created.text
    [memorial_id] = set(re.findall(r'href="/my/memorials/([0-9a-f-]{36})"', created.text))
    assert f'href="/memorials/{memorial_id}"' in created.text and "query-code" not in created.text
    listed = citizen.get("/my/memorials")
    assert "张桂兰纪念馆" in listed.text and "开放中" in listed.text
    page = citizen.get(f"/my/memorials/{memorial_id}")

    removed = citizen.post(f"/my/memorials/{memorial_id}/remove", data={"csrf_token": csrf_of(page.text)},
                           follow_redirects=False)

    assert removed.status_code == 303 and removed.headers["location"] == "/my/memorials?done=removed"
    after = citizen.get(removed.headers["location"])
    assert "纪念馆已撤除。" in after.text and "已撤除" in after.text
    assert citizen.get(f"/memorials/{memorial_id}").status_code == 410
    again = citizen.post(f"/my/memorials/{memorial_id}/remove", data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 410 and "该纪念馆已被家属撤除" in again.text


def test_an_invitation_memorial_shows_its_code_once_and_the_family_removes_a_message(site, site_client, citizen_for):
    citizen = citizen_for("zhang.san")
    created = _create(citizen, visibility="invitation")
    code = re.search(r'class="query-code">([^<]+)<', created.text).group(1)
    memorial_id = re.search(r'href="/my/memorials/([0-9a-f-]{36})"', created.text).group(1)
    posted = site_client.post(f"/api/v1/memorials/{memorial_id}/messages?code={code}", json={"text": "永远怀念您"})
    assert posted.status_code == 201, posted.text
    page = citizen.get(f"/my/memorials/{memorial_id}")
    assert code not in page.text and code not in citizen.get("/my/memorials").text  # shown once
    assert "永远怀念您" in page.text

    removed = citizen.post(f"/my/memorials/{memorial_id}/messages/{posted.json()['id']}/remove",
                           data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)

    assert removed.headers["location"] == f"/my/memorials/{memorial_id}?done=message_removed"
    after = citizen.get(removed.headers["location"])
    assert "留言已删除。" in after.text and "永远怀念您" not in after.text


def test_a_memorial_without_consent_is_refused_beside_the_field_with_nothing_written(site, citizen_for):
    citizen = citizen_for("zhang.san")
    refused = _create(citizen, consent="")
    assert refused.status_code == 400, refused.text
    assert 'id="consent-error"' in refused.text and "创建纪念馆须由家属确认同意" in refused.text
    assert 'value="张桂兰"' in refused.text and _memorials(site) == []


def test_another_familys_memorial_is_not_found_and_no_form_acts_without_the_token(site, citizen_for):
    citizen = citizen_for("zhang.san")
    memorial_id = re.search(r'href="/my/memorials/([0-9a-f-]{36})"', _create(citizen).text).group(1)
    stranger = citizen_for("li.si")
    assert stranger.get(f"/my/memorials/{memorial_id}").status_code == 404
    token = csrf_of(stranger.get("/my/").text)
    assert stranger.post(f"/my/memorials/{memorial_id}/remove", data={"csrf_token": token}).status_code == 404
    assert citizen.post(f"/my/memorials/{memorial_id}/remove", data={}).status_code == 403
    assert [m.status for m in _memorials(site)] == ["active"]
