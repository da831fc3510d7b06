"""我的办事 · 网上审批: a citizen applies through the form, sees the application listed and each step staff take
through the API, uploads an attachment, reads an approved transport's permit; a refused form keeps what was typed
with each message beside its field and writes nothing; another citizen's application is not found."""
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from citizen_signing import signed_in_citizen
from factories import facility_approval_payload, transport_approval_payload
from registry.approvals.models import Approval, ApprovalAttachment
from staff_signing import csrf_of

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def citizen_for(site) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        yield lambda name: signed_in_citizen(stack, site, name)


@pytest.fixture
def staff(site) -> Callable[[str], dict[str, str]]:
    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(role + '-1', [role])}"}
    return headers


def _count(site, model) -> int:
    with Session(site.state.ctx.engine) as db:
        return db.exec(select(func.count()).select_from(model)).one()


def _apply(client: TestClient, kind: str, fields: dict):
    page = client.get(f"/my/approvals/new?kind={kind}")
    assert page.status_code == 200
    return client.post(f"/my/approvals/new?kind={kind}", data={"csrf_token": csrf_of(page.text), **fields},
                       follow_redirects=False)


def _applied(client: TestClient, kind: str = "facility", payload: dict | None = None) -> tuple[str, str, str]:
    """(approval id, number, query code) of an application made through the form."""
    payload = payload or facility_approval_payload()
    answer = _apply(client, kind, payload[kind])
    assert answer.status_code == 201, answer.text
    [href] = re.findall(r'href="/my/approvals/([0-9a-f-]{36})"', answer.text)
    number = re.search(r"110000-[A-Z]+-\d{4}-\d+", answer.text).group(0)
    code = re.search(r'class="query-code">([^<]+)<', answer.text).group(1)
    return href, number, code


def test_an_application_is_submitted_listed_and_followed_step_by_step(site, site_client, citizen_for, staff):
    citizen = citizen_for("zhang.san")
    home = citizen.get("/my/")
    assert 'href="/my/approvals"' in home.text and "网上审批" in home.text
    approval_id, number, code = _applied(citizen)
    listed = citizen.get("/my/approvals")
    assert number in listed.text and "殡葬设施审批" in listed.text and "待受理" in listed.text
    assert code not in listed.text and code not in citizen.get(f"/my/approvals/{approval_id}").text  # shown once

    accepted = site_client.post(f"/api/v1/approvals/{approval_id}/accept", headers=staff("reviewer"))
    assert accepted.status_code == 200, accepted.text
    assert "已受理，审查中" in citizen.get("/my/approvals").text
    page = citizen.get(f"/my/approvals/{approval_id}")
    assert page.status_code == 200 and "已受理，审查中" in page.text and "受理日期" in page.text
    assert '<th scope="col">办理环节</th>' in page.text


def test_refusal_reasons_are_shown_to_the_applicant(site_client, citizen_for, staff):
    citizen = citizen_for("zhang.san")
    approval_id, _, _ = _applied(citizen)
    refused = site_client.post(f"/api/v1/approvals/{approval_id}/refuse", headers=staff("reviewer"),
                               json={"reasons": "申请材料不齐全，缺少土地使用证明。"})
    assert refused.status_code == 200, refused.text
    page = citizen.get(f"/my/approvals/{approval_id}")
    assert "不予受理" in page.text and "申请材料不齐全，缺少土地使用证明。" in page.text
    assert 'action="/my/approvals/' not in page.text  # no more attachments to a refused application


def test_a_refused_form_keeps_what_was_typed_beside_each_message_and_writes_nothing(site, citizen_for):
    citizen = citizen_for("zhang.san")
    fields = facility_approval_payload(credit_code="12345", organisation_name="某公墓管理处")["facility"]
    answer = _apply(citizen, "facility", fields)
    assert answer.status_code == 400
    assert 'id="credit_code-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="12345"' in answer.text and 'value="某公墓管理处"' in answer.text
    assert "error-summary" in answer.text and answer.text.count("query-code") == 0
    assert _count(site, Approval) == 0


def test_a_transport_in_the_past_is_refused_beside_its_date(site, citizen_for):
    citizen = citizen_for("zhang.san")
    answer = _apply(citizen, "transport", transport_approval_payload(planned_on="2020-01-01")["transport"])
    assert answer.status_code == 400 and 'id="planned_on-error"' in answer.text and 'value="2020-01-01"' in answer.text
    assert _count(site, Approval) == 0


def test_an_approved_transport_shows_its_permit_with_its_qr(site_client, citizen_for, staff):
    citizen = citizen_for("zhang.san")
    approval_id, _, _ = _applied(citizen, "transport", transport_approval_payload())
    for step, role in (("accept", "reviewer"), ("review", "reviewer"), ("approve", "provincial-admin")):
        answer = site_client.post(f"/api/v1/approvals/{approval_id}/{step}", headers=staff(role))
        assert answer.status_code == 200, answer.text
    page = citizen.get(f"/my/approvals/{approval_id}")
    permit = site_client.get(f"/api/v1/approvals/{approval_id}", headers=staff("reviewer")).json()["permit"]
    assert "准予许可" in page.text and "遗体跨省运输证明" in page.text and "<svg" in page.text
    assert f"<dd>{permit['number']}</dd>" in page.text and f"<dd>{permit['check_code']}</dd>" in page.text


def test_an_attachment_is_uploaded_to_ones_own_application_and_judged_by_its_content(site, citizen_for):
    citizen = citizen_for("zhang.san")
    approval_id, _, _ = _applied(citizen)
    page = citizen.get(f"/my/approvals/{approval_id}")
    csrf = csrf_of(page.text)
    sent = citizen.post(f"/my/approvals/{approval_id}/attachments", data={"csrf_token": csrf},
                        files={"file": ("材料.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/my/approvals/{approval_id}?uploaded=1"
    shown = citizen.get(sent.headers["location"])
    assert "附件已上传" in shown.text and "application/pdf" in shown.text
    [href] = re.findall(rf'href="(/my/approvals/{approval_id}/attachments/[0-9a-f-]+)"', shown.text)
    assert citizen.get(href).content == PDF

    fake = citizen.post(f"/my/approvals/{approval_id}/attachments", data={"csrf_token": csrf},
                        files={"file": ("材料.pdf", b"just text, not a pdf", "application/pdf")})
    assert fake.status_code in (400, 415) and 'id="file-error"' in fake.text
    assert _count(site, ApprovalAttachment) == 1


def test_another_citizens_application_is_not_found(citizen_for):
    owner, stranger = citizen_for("zhang.san"), citizen_for("li.si")
    approval_id, number, _ = _applied(owner)
    assert stranger.get(f"/my/approvals/{approval_id}").status_code == 404
    assert number not in stranger.get("/my/approvals").text
    page = stranger.get("/my/approvals")
    upload = stranger.post(f"/my/approvals/{approval_id}/attachments", data={"csrf_token": csrf_of(page.text)},
                           files={"file": ("a.pdf", PDF, "application/pdf")})
    assert upload.status_code == 404


def test_a_form_without_the_csrf_token_is_refused_and_nothing_written(site, citizen_for):
    citizen = citizen_for("zhang.san")
    answer = citizen.post("/my/approvals/new?kind=facility", data=facility_approval_payload()["facility"])
    assert answer.status_code == 403 and "操作未执行" in answer.text
    assert _count(site, Approval) == 0


def test_after_sign_in_the_citizen_lands_on_the_form_of_the_kind_they_asked_for(site):
    with TestClient(site, base_url="https://testserver") as client:
        asked = client.get("/my/approvals/new?kind=transport", follow_redirects=False)
        assert asked.headers["location"] == "/my/sign-in?next=/my/approvals/new%3Fkind%3Dtransport"
        page = client.get(asked.headers["location"])
        signed_in = client.post("/my/sign-in", data={"csrf_token": csrf_of(page.text), "username": "zhang.san",
                                                     "next": "/my/approvals/new?kind=transport"}, follow_redirects=False)
        assert signed_in.headers["location"] == "/my/approvals/new?kind=transport"
        assert 'name="vehicle_plate"' in client.get(signed_in.headers["location"]).text
