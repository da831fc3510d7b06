"""我的办事 · 投诉: a citizen files a complaint against an institution of the directory, sees it listed and each
step staff take through the API, reads the answer and says whether it resolved the matter; a refused form keeps
what was typed and writes nothing; another citizen's complaint is not found."""
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from citizen_signing import signed_in_citizen
from factories import create_institution
from registry.complaints.models import Complaint
from staff_signing import csrf_of

TEXT = "告别厅服务人员态度恶劣，并要求加收未公示的费用。"


@pytest.fixture
def citizen_for(site) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        yield lambda name: signed_in_citizen(stack, site, name)


@pytest.fixture
def institution(site_client, admin) -> dict:
    return create_institution(site_client, admin)


def _count(site) -> int:
    with Session(site.state.ctx.engine) as db:
        return db.exec(select(func.count()).select_from(Complaint)).one()


def _file(client: TestClient, **fields):
    page = client.get("/my/complaints/new")
    assert page.status_code == 200
    return client.post("/my/complaints/new", data={"csrf_token": csrf_of(page.text), **fields}, follow_redirects=False)


def _filed(client: TestClient, institution: dict) -> tuple[str, str, str]:
    answer = _file(client, institution_id=institution["id"], category="attitude", text=TEXT, contact="13800001234")
    assert answer.status_code == 201, answer.text
    [complaint_id] = re.findall(r'href="/my/complaints/([0-9a-f-]{36})"', answer.text)
    number = re.search(r"编号</dt><dd>([^<]+)</dd>", answer.text).group(1)
    code = re.search(r'class="query-code">([^<]+)<', answer.text).group(1)
    return complaint_id, number, code


def test_the_form_offers_the_directorys_institutions(citizen_for, institution):
    page = citizen_for("zhang.san").get("/my/complaints/new")
    assert f'<option value="{institution["id"]}">{institution["name"]}</option>' in page.text
    assert '<label class="label" for="contact">' in page.text


def test_a_complaint_is_filed_listed_answered_and_given_feedback(site_client, admin, citizen_for, institution):
    citizen = citizen_for("zhang.san")
    assert 'href="/my/complaints"' in citizen.get("/my/").text
    complaint_id, number, code = _filed(citizen, institution)
    listed = citizen.get("/my/complaints")
    assert number in listed.text and institution["name"] in listed.text and "已受理，待交办" in listed.text
    page = citizen.get(f"/my/complaints/{complaint_id}")
    assert code not in listed.text and code not in page.text  # shown once
    assert TEXT in page.text and "138****1234" in page.text and "尚未答复" in page.text
    assert "/feedback" not in page.text  # nothing to judge before the answer

    path = f"/api/v1/complaints/{complaint_id}"
    assert site_client.post(f"{path}/assign", headers=admin).status_code == 200
    assert "已交办机构，待答复" in citizen.get("/my/complaints").text
    answer = site_client.post(f"{path}/answer", json={"answer": "经核实，已对当事员工批评教育并退还费用。"}, headers=admin)
    assert answer.status_code == 200, answer.text
    page = citizen.get(f"/my/complaints/{complaint_id}")
    assert "已答复" in page.text and "经核实，已对当事员工批评教育并退还费用。" in page.text
    assert "<legend" in page.text and 'action="/my/complaints/' + complaint_id + '/feedback"' in page.text

    unchosen = citizen.post(f"/my/complaints/{complaint_id}/feedback", data={"csrf_token": csrf_of(page.text)})
    assert unchosen.status_code == 400 and 'id="resolved-error"' in unchosen.text
    given = citizen.post(f"/my/complaints/{complaint_id}/feedback",
                         data={"csrf_token": csrf_of(page.text), "resolved": "no"}, follow_redirects=False)
    assert given.status_code == 303
    shown = citizen.get(given.headers["location"])
    assert "谢谢您的评价" in shown.text and "您的评价：未解决" in shown.text and "<legend" not in shown.text
    assert site_client.get(path, headers=admin).json()["resolved"] is False


def test_a_refused_form_keeps_what_was_typed_beside_each_message_and_writes_nothing(site, citizen_for, institution):
    citizen = citizen_for("zhang.san")
    answer = _file(citizen, institution_id=institution["id"], category="pricing", text=TEXT, contact="12")
    assert answer.status_code == 400
    assert 'id="contact-error"' in answer.text and 'value="12"' in answer.text and TEXT in answer.text
    assert f'<option value="{institution["id"]}" selected>' in answer.text
    assert '<option value="pricing" selected>' in answer.text
    empty = _file(citizen, institution_id="", category="", text="", contact="")
    assert empty.status_code == 400 and 'id="institution_id-error"' in empty.text and 'id="text-error"' in empty.text
    assert _count(site) == 0


def test_another_citizens_complaint_is_not_found(citizen_for, institution):
    owner, stranger = citizen_for("zhang.san"), citizen_for("li.si")
    complaint_id, number, _ = _filed(owner, institution)
    assert stranger.get(f"/my/complaints/{complaint_id}").status_code == 404
    assert number not in stranger.get("/my/complaints").text
    page = stranger.get("/my/complaints")
    feedback = stranger.post(f"/my/complaints/{complaint_id}/feedback",
                             data={"csrf_token": csrf_of(page.text), "resolved": "yes"})
    assert feedback.status_code == 404


def test_a_form_without_the_csrf_token_is_refused_and_nothing_written(site, citizen_for, institution):
    citizen = citizen_for("zhang.san")
    answer = citizen.post("/my/complaints/new", data={"institution_id": institution["id"], "category": "attitude",
                                                       "text": TEXT, "contact": "13800001234"})
    assert answer.status_code == 403 and "操作未执行" in answer.text
    assert _count(site) == 0
