"""Online memorials on the portal: the public ones listed and searched, one memorial with its messages and an
offering form that works without JavaScript, cheap at a Qingming peak (ETag, 304, Cache-Control), invitation-only
pages behind their code, removed ones Gone."""
import re

import pytest

from assertions import text_of

MEMORIAL = {"deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01",
            "biography": "一生勤劳，乐于助人。\n晚年喜爱书法。", "consented_by": "张明", "relation": "child",
            "consent": True}


@pytest.fixture
def family(site):
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint('family-1', ['citizen'])}"}


def create(site_client, family, **change) -> dict:
    made = site_client.post("/api/v1/my/memorials", json={**MEMORIAL, **change}, headers=family)
    assert made.status_code == 201, made.text
    return made.json()


def test_public_memorials_are_listed_and_searched_by_name(site_client, family):
    create(site_client, family)
    create(site_client, family, deceased_name="李秀英")
    create(site_client, family, deceased_name="王建国", visibility="invitation")

    listed = text_of(site_client.get("/memorials").text)
    searched = text_of(site_client.get("/memorials?q=桂兰").text)

    assert "张桂兰纪念馆" in listed and "李秀英纪念馆" in listed and "王建国" not in listed
    assert "共 2 个纪念馆" in listed
    assert "张桂兰纪念馆" in searched and "李秀英" not in searched
    assert site_client.get("/memorials?q=" + "长" * 60).status_code == 400


def test_a_visitor_leaves_a_message_and_an_offering_without_javascript(site_client, family):
    memorial = create(site_client, family)
    path = f"/memorials/{memorial['id']}"

    posted = site_client.post(f"{path}/messages", data={"author_name": "邻居小王", "offering": "flowers",
                                                         "text": "张奶奶，我们想念您。"}, follow_redirects=False)
    held = site_client.post(f"{path}/messages", data={"text": "加微信领优惠"}, follow_redirects=False)
    shown = site_client.get(posted.headers["location"])

    assert posted.status_code == 303 and "posted=published" in posted.headers["location"]
    assert "posted=pending" in held.headers["location"]
    page = text_of(shown.text)
    assert "谢谢您的祭奠，留言已显示在下方" in page and "邻居小王 （鲜花）" in page and "张奶奶，我们想念您。" in page
    assert "鲜花 1" in page and "加微信" not in page
    assert "晚年喜爱书法。" in page


def test_bad_messages_are_refused_beside_the_field_with_what_was_typed_kept(site_client, family):
    memorial = create(site_client, family)

    empty = site_client.post(f"/memorials/{memorial['id']}/messages", data={"author_name": "小王", "text": ""})
    markup = site_client.post(f"/memorials/{memorial['id']}/messages", data={"text": "<b>怀念</b>"})

    assert empty.status_code == 400 and 'id="text-error"' in empty.text and 'value="小王"' in empty.text
    assert markup.status_code == 400 and "&lt;b&gt;怀念&lt;/b&gt;" in markup.text and "HTML" in markup.text


def test_a_memorial_page_is_cacheable_and_answers_a_conditional_get_with_304(site_client, family):
    memorial = create(site_client, family)
    path = f"/memorials/{memorial['id']}"

    first = site_client.get(path)
    again = site_client.get(path, headers={"If-None-Match": first.headers["etag"]})
    site_client.post(f"{path}/messages", data={"offering": "candle"})
    changed = site_client.get(path, headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200 and first.headers["cache-control"].startswith("public, max-age=")
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"] and again.content == b""
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert "蜡烛 1" in text_of(changed.text)


def test_an_invitation_only_page_needs_its_code_and_is_kept_private(site_client, family):
    memorial = create(site_client, family, visibility="invitation")
    path = f"/memorials/{memorial['id']}"

    without = site_client.get(path)
    wrong = site_client.get(f"{path}?code=AAAA-BBBB-CCCC")
    right = site_client.get(f"{path}?code={memorial['invitation_code']}")
    posted = site_client.post(f"{path}/messages", data={"offering": "incense", "code": memorial["invitation_code"]},
                              follow_redirects=False)

    assert (without.status_code, wrong.status_code, right.status_code) == (404, 404, 200)
    assert right.headers["cache-control"] == "private, no-cache" and right.headers["referrer-policy"] == "no-referrer"
    assert re.search(r'name="code" value="[A-Z0-9-]+"', right.text)
    assert posted.status_code == 303 and f"code={memorial['invitation_code']}" in posted.headers["location"]


def test_a_removed_memorial_is_gone(site_client, family):
    memorial = create(site_client, family)
    site_client.post(f"/api/v1/my/memorials/{memorial['id']}/remove", headers=family)

    gone = site_client.get(f"/memorials/{memorial['id']}")

    assert gone.status_code == 410 and "纪念馆已撤除" in gone.text
    assert "张桂兰" not in site_client.get("/memorials").text
