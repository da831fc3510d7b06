"""Signing in to the workbench, staying in, and being put out: cookies, CSRF, idle timeout, sign-out, audit."""
import json
from datetime import timedelta

from sqlmodel import Session, select

from portal.workbench.staff import COOKIE
from registry.audit.models import AuditEntry
from registry.db_types import utcnow
from registry.sessions.models import StaffSession
from staff_signing import csrf_of, sign_in


def _audit(site, action: str) -> list[AuditEntry]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_anonymous_visitor_is_sent_to_sign_in_remembering_the_page(browser_client):
    answer = browser_client().get("/workbench/cases", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/workbench/sign-in?next=/workbench/cases"


def test_development_sign_in_is_marked_and_leads_to_the_tasks_of_the_role(site, browser_client, institution_id):
    client = browser_client()
    page = client.get("/workbench/sign-in")
    assert "开发环境登录" in page.text and "不得处理真实数据" in page.text
    answer = sign_in(client, "li.ming", "registrar", institution_id, next_path="/workbench/cases")
    assert answer.status_code == 303 and answer.headers["location"] == "/workbench/cases"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "Path=/workbench" in cookie
    home = client.get("/workbench/")
    assert home.status_code == 200
    assert "死亡登记" in home.text and "案件查询" in home.text and "审计日志" not in home.text
    assert "li.ming" in home.text and "登记员" in home.text
    assert home.headers["cache-control"] == "no-store" and home.headers["x-frame-options"] == "DENY"
    signed = _audit(site, "staff.sign_in")
    assert [entry.actor for entry in signed] == ["li.ming"] and json.loads(signed[0].detail)["method"] == "development"


def test_the_session_id_changes_at_sign_in_and_only_its_digest_is_stored(site, browser_client, institution_id):
    client = browser_client()
    client.get("/workbench/sign-in")
    before = client.cookies[COOKIE]
    answer = sign_in(client, "li.ming", "registrar", institution_id)
    after = client.cookies[COOKIE]
    assert answer.status_code == 303 and after != before
    with Session(site.state.ctx.engine) as db:
        rows = list(db.exec(select(StaffSession)))
    assert all(after not in (row.id, row.access_token) for row in rows)
    active = [row for row in rows if row.state == "active"]
    # SM4-GCM ciphertext, not the JWT (whose header starts "eyJ"; random base64 may hold those three letters too)
    assert len(active) == 1 and active[0].access_token.startswith("sm4gcm1:")
    assert not active[0].access_token.removeprefix("sm4gcm1:").startswith("eyJ")


def test_bad_sign_in_input_is_refused_in_place_keeping_what_was_typed(site, browser_client):
    client = browser_client()
    page = client.get("/workbench/sign-in")
    answer = client.post("/workbench/sign-in", data={"csrf_token": csrf_of(page.text), "username": "李 明<script>",
                                                     "role": "registrar", "institution_id": ""})
    assert answer.status_code == 400
    assert "请输入用户名" in answer.text and "登记员必须选择所属机构" in answer.text
    assert "李 明&lt;script&gt;" in answer.text and "<script>" not in answer.text
    assert _audit(site, "staff.sign_in") == []


def test_sign_in_without_the_pages_csrf_token_signs_nobody_in(site, browser_client, institution_id):
    client = browser_client()
    client.get("/workbench/sign-in")
    answer = client.post("/workbench/sign-in", data={"csrf_token": "0" * 64, "username": "li.ming",
                                                     "role": "reviewer"}, follow_redirects=False)
    assert answer.status_code == 403 and "页面已过期" in answer.text
    assert client.get("/workbench/", follow_redirects=False).status_code == 303


def test_a_form_without_the_csrf_token_is_refused_and_audited(site, staff_client):
    client = staff_client("reviewer")
    answer = client.post("/workbench/sign-out", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403 and "操作未执行" in answer.text
    assert client.get("/workbench/").status_code == 200  # still signed in: nothing was done
    refused = _audit(site, "staff.form")
    assert len(refused) == 1 and refused[0].result == "refused" and refused[0].actor == "reviewer-1"


def test_sign_out_ends_the_session_even_for_a_copied_cookie(site, staff_client, browser_client):
    client = staff_client("auditor")
    copied = client.cookies[COOKIE]
    home = client.get("/workbench/")
    answer = client.post("/workbench/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].endswith("/workbench/sign-in?ended=signed_out")
    assert "您已安全退出" in client.get(answer.headers["location"]).text
    replayed = browser_client()
    replayed.cookies.set(COOKIE, copied, domain="testserver.local", path="/workbench")
    assert replayed.get("/workbench/", follow_redirects=False).status_code == 303
    assert [json.loads(entry.detail)["reason"] for entry in _audit(site, "staff.sign_out")] == ["signed_out"]


def test_fifteen_idle_minutes_end_the_session(site, staff_client):
    client = staff_client("auditor")
    start = utcnow()
    site.state.clock = lambda: start + timedelta(minutes=14)
    assert client.get("/workbench/").status_code == 200  # activity restarts the idle clock
    site.state.clock = lambda: start + timedelta(minutes=28)
    assert client.get("/workbench/").status_code == 200
    site.state.clock = lambda: start + timedelta(minutes=44)
    answer = client.get("/workbench/", follow_redirects=False)
    assert answer.status_code == 303 and "ended=idle" in answer.headers["location"]
    assert "15 分钟未操作" in client.get(answer.headers["location"]).text
    assert [json.loads(entry.detail)["reason"] for entry in _audit(site, "staff.sign_out")] == ["idle"]


def test_next_never_leads_off_the_workbench(browser_client, institution_id):
    client = browser_client()
    for target in ("https://evil.example/", "//evil.example/workbench", "/api/v1/cases"):
        answer = sign_in(client, "li.ming", "reviewer", next_path=target)
        assert answer.headers["location"] == "/workbench/"
        client.cookies.clear()


def test_roles_see_only_their_tasks_and_pages(staff_client):
    auditor = staff_client("auditor")
    assert "审计日志" in auditor.get("/workbench/").text
    answer = auditor.get("/workbench/cases")
    assert answer.status_code == 403 and "您的角色不能办理此事项" in answer.text
