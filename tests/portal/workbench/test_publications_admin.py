"""The provincial admin's policies, guides and notices in the workbench: draft, publish, edit, withdraw, through the
registry's publications API, with refusals in place and the public portal following."""
from staff_signing import csrf_of

DRAFT = {"category": "guide", "title": "骨灰撒海申请指南", "document_number": "", "issuing_authority": "北京市民政局",
         "effective_date": "2026-01-01", "summary": "", "content": "一、申请条件\n逝者已火化，家属自愿选择骨灰撒海。"}


def _post(client, path: str, data: dict, *, page: str):
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data}, follow_redirects=False)


def test_an_admin_drafts_publishes_edits_and_withdraws_a_guide(site_client, staff_client):
    admin = staff_client("provincial-admin")
    made = _post(admin, "/workbench/publications/new", DRAFT, page="/workbench/publications/new")
    assert made.status_code == 303 and made.headers["location"].endswith("?done=created")
    page = made.headers["location"]
    assert "草稿已保存" in admin.get(page).text
    assert site_client.get("/policies").text.count("骨灰撒海申请指南") == 0  # a draft is not public
    path = page.split("?")[0]
    published = _post(admin, f"{path}/publish", {}, page=path)
    assert published.status_code == 303 and "门户网站已公开" in admin.get(published.headers["location"]).text
    assert "骨灰撒海申请指南" in site_client.get("/policies").text
    edited = _post(admin, f"{path}/edit", {**DRAFT, "title": "骨灰撒海申请指南（2026年版）"}, page=f"{path}/edit")
    assert edited.status_code == 303
    assert "骨灰撒海申请指南（2026年版）" in site_client.get("/policies").text
    withdrawn = _post(admin, f"{path}/withdraw", {"reason": "已由新版指南替代"}, page=path)
    assert withdrawn.status_code == 303
    shown = admin.get(withdrawn.headers["location"]).text
    assert "已撤回" in shown and "已由新版指南替代" in shown
    assert "骨灰撒海申请指南" not in site_client.get("/policies").text


def test_bad_input_is_refused_in_place_and_nothing_is_written(site_client, admin, staff_client):
    client = staff_client("provincial-admin")
    answer = _post(client, "/workbench/publications/new", {**DRAFT, "title": "", "effective_date": "2026-02-30",
                                                            "content": "一、<b>申请条件</b>"},
                   page="/workbench/publications/new")
    assert answer.status_code == 400
    assert 'id="title-error"' in answer.text and 'id="effective_date-error"' in answer.text
    assert "一、&lt;b&gt;申请条件&lt;/b&gt;" in answer.text  # what was typed, kept (and escaped)
    listed = site_client.get("/api/v1/publications/all", headers=admin).json()
    assert listed["count"] == 0


def test_emptying_a_required_field_when_editing_is_refused_not_ignored(staff_client):
    client = staff_client("provincial-admin")
    path = _post(client, "/workbench/publications/new", DRAFT,
                 page="/workbench/publications/new").headers["location"].split("?")[0]
    answer = _post(client, f"{path}/edit", {**DRAFT, "issuing_authority": ""}, page=f"{path}/edit")
    assert answer.status_code == 400 and "请填写发布机关" in answer.text
    assert "北京市民政局" in client.get(path).text


def test_only_those_who_publish_see_these_pages(staff_client):
    registrar_less = staff_client("reviewer")
    assert registrar_less.get("/workbench/publications").status_code == 403
    assert "政务公开" not in registrar_less.get("/workbench/").text
    assert "政务公开" in staff_client("provincial-admin").get("/workbench/").text
