"""我的办事: a citizen signs in (development sign-in here; the realm's in tests/sso), stays in, calls the registry
with their own token, and is put out; staff and citizens never pass for each other."""
import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from citizen_signing import citizen_sign_in
from portal.citizens import signin
from portal.citizens.session import COOKIE
from portal.citizens.views import citizen_page
from portal.workbench import registry_api
from portal.workbench.staff import COOKIE as STAFF_COOKIE
from registry.audit.models import AuditEntry
from registry.db_types import utcnow
from registry.sessions.models import StaffSession
from staff_signing import BASE, csrf_of, sign_in


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
def citizen(browser_client) -> TestClient:
    client = browser_client()
    assert citizen_sign_in(client, "zhang.san").status_code == 303
    return client


def _audit(site, action: str) -> list[AuditEntry]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action)))


def _rows(site) -> list[StaffSession]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(StaffSession).where(StaffSession.kind == "citizen")))


def test_a_stranger_is_sent_to_sign_in_which_says_it_is_development(browser_client):
    client = browser_client()
    answer = client.get("/my/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/my/sign-in?next=/my/"
    page = client.get(answer.headers["location"])
    assert "开发环境" in page.text and 'action="/my/sign-in"' in page.text
    cookie = page.headers["set-cookie"]
    assert "fsp_citizen=" in cookie and "Path=/my" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_development_sign_in_greets_the_citizen_and_audits_it(site, citizen):
    home = citizen.get("/my/")
    assert home.status_code == 200 and "zhang.san" in home.text and "我的办事" in home.text
    assert home.headers["cache-control"] == "no-store" and 'action="/my/sign-out"' in home.text
    [row] = [row for row in _rows(site) if row.state == "active"]
    assert row.roles == "citizen" and row.subject == signin.development_subject("zhang.san")
    [entry] = _audit(site, "citizen.sign_in")
    assert entry.actor == row.subject and json.loads(entry.detail)["roles"] == ["citizen"]


def test_the_same_name_is_the_same_citizen_every_time(site, browser_client):
    for _ in range(2):
        assert citizen_sign_in(browser_client(), "li.si").status_code == 303
    assert {row.subject for row in _rows(site) if row.state == "active"} == {signin.development_subject("li.si")}


def test_bad_input_and_a_missing_csrf_token_sign_nobody_in(site, browser_client):
    client = browser_client()
    refused = citizen_sign_in(client, "<script>")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    forged = client.post("/my/sign-in", data={"csrf_token": "forged", "username": "mallory"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/my/", follow_redirects=False).status_code == 303
    assert not _audit(site, "citizen.sign_in")


def test_the_registry_is_called_with_the_citizens_own_token(site, citizen):
    seen = {}

    @citizen_page
    async def probe(request, person):
        seen["status"] = (await registry_api.call(request, person, "GET", "/cases")).status
        return PlainTextResponse("ok")

    site.router.routes.insert(0, Route("/my/probe", probe))
    assert citizen.get("/my/probe").status_code == 200
    assert seen["status"] == 403, "a citizen's token reads no cases: the registry decides, not the page"


def test_sign_out_ends_the_session_and_is_audited(site, citizen, browser_client):
    copied = citizen.cookies[COOKIE]
    home = citizen.get("/my/")
    out = citizen.post("/my/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].endswith("/my/sign-in?ended=signed_out")
    assert "您已退出登录" in citizen.get(out.headers["location"]).text
    replayed = browser_client()
    replayed.cookies.set(COOKIE, copied, domain="testserver.local", path="/my")
    assert replayed.get("/my/", follow_redirects=False).status_code == 303
    assert [json.loads(entry.detail)["reason"] for entry in _audit(site, "citizen.sign_out")] == ["signed_out"]


def test_a_form_without_the_csrf_token_is_refused_and_audited(site, citizen):
    answer = citizen.post("/my/sign-out", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403 and "操作未执行" in answer.text
    assert citizen.get("/my/").status_code == 200
    assert [entry.result for entry in _audit(site, "citizen.form")] == ["refused"]


def test_fifteen_idle_minutes_end_the_session(site, citizen):
    start = utcnow()
    site.state.clock = lambda: start + timedelta(minutes=14)
    assert citizen.get("/my/").status_code == 200
    site.state.clock = lambda: start + timedelta(minutes=30)
    answer = citizen.get("/my/", follow_redirects=False)
    assert answer.status_code == 303 and "ended=idle" in answer.headers["location"]
    assert "15 分钟" in citizen.get(answer.headers["location"]).text


def test_a_citizen_never_reaches_the_workbench(citizen):
    stolen = citizen.cookies[COOKIE]
    citizen.cookies.set(STAFF_COOKIE, stolen, domain="testserver.local", path="/workbench")
    answer = citizen.get("/workbench/", follow_redirects=False)
    assert answer.status_code == 303 and "/workbench/sign-in" in answer.headers["location"]


def test_staff_never_pass_for_citizens(site, browser_client):
    staff = browser_client()
    assert sign_in(staff, "auditor-1", "auditor").status_code == 303
    staff.cookies.set(COOKIE, staff.cookies[STAFF_COOKIE], domain="testserver.local", path="/my")
    assert staff.get("/my/", follow_redirects=False).status_code == 303
    page = staff.get("/workbench/sign-in")
    assert 'value="citizen"' not in page.text, "the workbench's sign-in offers no citizen role"


def test_next_never_leads_off_my_area(browser_client):
    for target in ("https://evil.example/", "//evil.example/my", "/workbench/"):
        answer = citizen_sign_in(browser_client(), "wang.wu", next_path=target)
        assert answer.status_code == 303 and answer.headers["location"] == "/my/", target
