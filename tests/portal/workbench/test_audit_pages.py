"""The auditor's pages: the audit trail filtered and paged newest first, and the chain's verification in words."""
import re
from datetime import UTC, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from factories import create_institution
from registry.audit.models import AuditEntry
from staff_signing import csrf_of


def _admin(site, subject: str = "admin-1") -> dict:
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(subject, ['provincial-admin'])}"}


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<th scope="row" class="numeric">(\d+)</th>', html)]


def _entry(site, seq: int) -> AuditEntry:
    with Session(site.state.ctx.engine) as db:
        return db.get(AuditEntry, seq)


def _verify(client):
    page = client.get("/workbench/audit/verify")
    answer = client.post("/workbench/audit/verify", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])


def test_an_auditor_reads_the_trail_newest_first_in_china_time_with_names_in_chinese(site, site_client,
                                                                                     staff_client):
    made = create_institution(site_client, _admin(site))
    client = staff_client("auditor")
    page = client.get("/workbench/audit")
    assert page.status_code == 200
    assert _seqs(page.text) == [2, 1]  # the auditor's own sign-in, then the institution
    assert "登录工作台" in page.text and "新增殡葬服务机构" in page.text and made["id"] in page.text
    created = _entry(site, 1)
    beijing = (created.at.astimezone(UTC) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert beijing in page.text, page.text
    assert "<details>" in page.text and created.hash in page.text  # the detail, on demand


def test_refusals_are_marked_in_words_and_unknown_actions_shown_as_they_are(site, site_client, staff_client):
    site_client.post("/api/v1/institutions", json={"name": "x"}, headers=_admin(site))
    client = staff_client("audit-admin")
    page = client.get("/workbench/audit", params={"result": "refused"})
    assert _seqs(page.text) == [1]
    assert "已拒绝" in page.text and "POST /api/v1/institutions" in page.text  # no Chinese name: shown as is
    assert 'value="refused" selected' in page.text


def test_filters_narrow_the_trail_and_pages_go_back_and_forth(site, site_client, staff_client):
    for n in range(22):
        create_institution(site_client, _admin(site, subject=f"admin-{n % 2}"))
    client = staff_client("auditor")
    first = client.get("/workbench/audit")
    assert _seqs(first.text) == list(range(23, 3, -1)) and "较新的记录" not in first.text
    older = re.search(r'href="(\?[^"]*before=4[^"]*)"', first.text)
    second = client.get("/workbench/audit" + older.group(1).replace("&amp;", "&"))
    assert _seqs(second.text) == [3, 2, 1] and "更早的记录" not in second.text
    newer = re.search(r'href="(\?[^"]*after=3[^"]*)"', second.text)
    back = client.get("/workbench/audit" + newer.group(1).replace("&amp;", "&"))
    assert _seqs(back.text) == list(range(23, 3, -1))

    theirs = client.get("/workbench/audit", params={"actor": "admin-1", "action": "institution.create"})
    assert _seqs(theirs.text) == list(range(22, 1, -2)) and 'value="admin-1"' in theirs.text
    one = client.get("/workbench/audit", params={"object_type": "institution", "object_id": _entry(site, 5).object_id})
    assert _seqs(one.text) == [5]


def test_a_filter_the_registry_refuses_is_shown_beside_its_field(staff_client):
    client = staff_client("auditor")
    page = client.get("/workbench/audit", params={"at_from": "2026-02-30", "actor": "li.ming"})
    assert page.status_code == 400
    assert 'id="at_from-error"' in page.text and 'value="2026-02-30"' in page.text and 'value="li.ming"' in page.text
    swapped = client.get("/workbench/audit", params={"at_from": "2026-03-02", "at_to": "2026-03-01"})
    assert swapped.status_code == 400 and 'id="at_to-error"' in swapped.text


def test_the_verification_says_the_chain_is_intact_through_its_last_entry(site, site_client, staff_client):
    for _ in range(3):
        create_institution(site_client, _admin(site))
    verdict = _verify(staff_client("auditor"))
    assert verdict.status_code == 200
    assert "审计链完整：第 1 条至第 4 条记录均未被篡改" in verdict.text and "本次核对记录数：4 条" in verdict.text
    assert "校验时间：" in verdict.text


def test_an_entry_altered_in_the_database_is_named_on_the_page(site, site_client, staff_client):
    for _ in range(3):
        create_institution(site_client, _admin(site))
    with Session(site.state.ctx.engine) as db:
        db.exec(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"))
        db.commit()
    verdict = _verify(staff_client("auditor"))
    assert "审计链已被破坏" in verdict.text
    assert "审计链在第 2 条记录处断开：记录内容与其哈希值不符（记录被篡改）" in verdict.text
    assert "content does not match its hash" in verdict.text  # and what the registry said, word for word


def test_entries_cut_off_the_end_are_reported(site, site_client, staff_client):
    for _ in range(3):
        create_institution(site_client, _admin(site))
    with Session(site.state.ctx.engine) as db:
        db.exec(text("DELETE FROM audit_entries WHERE seq = 3"))
        db.commit()
    verdict = _verify(staff_client("auditor"))
    assert "审计链在第 3 条记录处断开：第 3 条记录缺失（被删除）" in verdict.text


def test_a_verdict_edited_in_the_address_is_not_shown(staff_client):
    client = staff_client("auditor")
    shown = _verify(client)
    assert "审计链完整" in shown.text
    sealed = re.search(r"verdict=([^\"&]+)", str(shown.url)).group(1)
    payload, mac = sealed.split(".")
    forged = client.get("/workbench/audit/verify", params={"verdict": f"{payload[:-4]}AAAA.{mac}"})
    assert "审计链完整" not in forged.text and "尚未校验" in forged.text
    other = staff_client("auditor", username="auditor-2")
    assert "审计链完整" not in other.get(str(shown.url)).text  # sealed with the first person's session


def test_a_registrar_and_an_administrator_cannot_open_the_audit_pages(staff_client, institution_id):
    for client in (staff_client("registrar", institution_id), staff_client("provincial-admin")):
        for path in ("/workbench/audit", "/workbench/audit/verify"):
            page = client.get(path)
            assert page.status_code == 403 and "无权办理" in page.text, path
        home = client.get("/workbench/")
        token = csrf_of(home.text)
        assert client.post("/workbench/audit/verify", data={"csrf_token": token}).status_code == 403


def test_a_verification_posted_without_the_form_token_is_refused_and_audited(site, staff_client):
    client = staff_client("auditor")
    answer = client.post("/workbench/audit/verify", data={})
    assert answer.status_code == 403 and "页面已过期" in answer.text
    with Session(site.state.ctx.engine) as db:
        refused = db.exec(select(AuditEntry).where(AuditEntry.action == "staff.form")).all()
    assert [e.result for e in refused] == ["refused"]
