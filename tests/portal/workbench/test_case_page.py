"""The case page: facts as the API gives them, and each action the role may take in the case's state, done
through the API (which decides) with a notice after, or its refusal shown in place."""
import re

from sqlmodel import Session, select

from case_work import api_headers, china_minutes_ago, post_form
from factories import create_institution, declare_case
from registry.audit.models import AuditEntry
from staff_signing import csrf_of


def _case(site, site_client, institution_id: str, **overrides) -> dict:
    return declare_case(site_client, api_headers(site, "registrar", institution_id), institution_id, **overrides)


def _api_case(site, site_client, case_id: str) -> dict:
    return site_client.get(f"/api/v1/cases/{case_id}", headers=api_headers(site, "reviewer")).json()


def _act(client, case_id: str, action: str, data: dict | None = None, *, follow: bool = False):
    page = f"/workbench/cases/{case_id}"
    return post_form(client, page, f"{page}/{action}", data or {}, follow=follow)


CREMATION = {"furnace_no": "F-3", "operator_name": "赵师傅"}


def test_from_registration_to_certificate_each_action_is_offered_in_turn(site, site_client, staff_client,
                                                                         institution_id):
    case_id = _case(site, site_client, institution_id)["id"]
    registrar, reviewer = staff_client("registrar", institution_id), staff_client("reviewer")
    page = registrar.get(f"/workbench/cases/{case_id}")
    assert "已申报" in page.text and not _offers(page.text, case_id, "register") and not _offers(page.text, case_id,
                                                                                             "cremation")
    assert _offers(reviewer.get(f"/workbench/cases/{case_id}").text, case_id, "register")

    registered = _act(reviewer, case_id, "register")
    assert registered.status_code == 303 and registered.headers["location"].endswith("?done=register")
    assert "案件已登记" in reviewer.get(registered.headers["location"]).text
    assert _offers(registrar.get(f"/workbench/cases/{case_id}").text, case_id, "cremation")

    times = {"started_at": china_minutes_ago(120), "ended_at": china_minutes_ago(60)}
    cremated = _act(registrar, case_id, "cremation", CREMATION | times, follow=True)
    assert cremated.status_code == 200 and "火化已记录" in cremated.text and "F-3" in cremated.text
    assert _api_case(site, site_client, case_id)["status"] == "cremated"
    assert times["started_at"].replace("T", " ") in cremated.text  # China time, as typed

    issued = _act(registrar, case_id, "issue", follow=True)
    assert "火化证明已出具" in issued.text
    first = site_client.get(f"/api/v1/cases/{case_id}/certificates", headers=api_headers(site, "reviewer")).json()
    number = first["data"][0]["number"]
    assert number in issued.text and "有效" in issued.text
    assert f'/workbench/certificates/{first["data"][0]["id"]}/print' in issued.text
    assert f"/workbench/cases/{case_id}/remains" in issued.text

    no_reason = _act(registrar, case_id, "reissue", {"reissue_reason": ""})
    assert no_reason.status_code == 400 and 'id="reissue_reason-error"' in no_reason.text

    reissued = _act(registrar, case_id, "reissue", {"reissue_reason": "原证明遗失"}, follow=True)
    assert "火化证明已补发" in reissued.text and "已作废" in reissued.text and "原证明遗失" in reissued.text
    cancelled = _act(registrar, case_id, "cancel", {"cancel_reason": "家属申请作废"}, follow=True)
    assert "火化证明已作废" in cancelled.text and _offers(cancelled.text, case_id, "issue")  # a new one may be

    closed = _act(registrar, case_id, "close", follow=True)
    assert "案件已结案" in closed.text
    archived = _act(reviewer, case_id, "archive", follow=True)
    assert "案件已归档" in archived.text and "已于" in archived.text


def test_a_cremation_the_api_refuses_keeps_what_was_typed_beside_its_fields(site, site_client, staff_client,
                                                                          institution_id):
    case_id = _case(site, site_client, institution_id)["id"]
    _act(staff_client("reviewer"), case_id, "register")
    registrar = staff_client("registrar", institution_id)
    answer = _act(registrar, case_id, "cremation", {"furnace_no": "三号炉", "operator_name": "赵师傅",
                                                    "started_at": china_minutes_ago(60), "ended_at": china_minutes_ago(120)})
    assert answer.status_code == 400 and 'id="furnace_no-error"' in answer.text and 'value="三号炉"' in answer.text
    empty = _act(registrar, case_id, "cremation", {"furnace_no": "3", "operator_name": "赵师傅", "started_at": "",
                                                   "ended_at": china_minutes_ago(30)})
    assert empty.status_code == 400 and "请填写开始时间" in empty.text
    assert _api_case(site, site_client, case_id)["status"] == "registered"


def test_a_reviewer_posting_a_registrar_action_gets_the_apis_refusal(site, site_client, staff_client, institution_id):
    case_id = _case(site, site_client, institution_id)["id"]
    reviewer = staff_client("reviewer")
    answer = _act(reviewer, case_id, "cremation", CREMATION | {"started_at": china_minutes_ago(90),
                                                               "ended_at": china_minutes_ago(30)})
    assert answer.status_code == 403 and "error-summary" in answer.text and "没有此项操作的权限" in answer.text
    assert _api_case(site, site_client, case_id)["status"] == "declared"
    closing = _act(reviewer, case_id, "close")
    assert closing.status_code == 403 and "案件：" in closing.text


def test_an_action_out_of_turn_is_refused_in_chinese(site, site_client, staff_client, institution_id):
    case_id = _case(site, site_client, institution_id)["id"]
    answer = _act(staff_client("registrar", institution_id), case_id, "close")
    assert answer.status_code == 409 and "该业务当前的状态不允许此项操作" in answer.text


def test_the_full_id_number_is_shown_once_to_a_reviewer_and_audited(site, site_client, staff_client, institution_id):
    case = _case(site, site_client, institution_id)
    full = site_client.get(f"/api/v1/cases/{case['id']}/id-number", headers=api_headers(site, "reviewer")).json()
    reviewer = staff_client("reviewer", username="shen.he")
    page = reviewer.get(f"/workbench/cases/{case['id']}")
    assert full["id_number"] not in page.text and case["id_number"] in page.text
    shown = _act(reviewer, case["id"], "id-number")
    assert shown.status_code == 200 and full["id_number"] in shown.text and "记入审计日志" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert full["id_number"] not in reviewer.get(f"/workbench/cases/{case['id']}").text  # once only
    with Session(site.state.ctx.engine) as db:
        reads = list(db.exec(select(AuditEntry).where(AuditEntry.action == "case.read_id_number")))
    assert "shen.he" in [entry.actor for entry in reads]

    registrar = staff_client("registrar", institution_id)
    assert not _offers(registrar.get(f"/workbench/cases/{case['id']}").text, case["id"], "id-number")
    refused = _act(registrar, case["id"], "id-number")
    assert refused.status_code == 403 and full["id_number"] not in refused.text and "error-summary" in refused.text


def test_another_institutions_case_is_not_found(site, site_client, admin, staff_client, institution_id):
    other = create_institution(site_client, admin, name="另一殡仪馆")["id"]
    case_id = _case(site, site_client, other)["id"]
    registrar = staff_client("registrar", institution_id)
    assert registrar.get(f"/workbench/cases/{case_id}").status_code == 404
    assert "未找到" in registrar.get("/workbench/cases/not-a-case").text
    own = _case(site, site_client, institution_id)["id"]
    token = registrar.get(f"/workbench/cases/{own}")  # a page of this session, for its CSRF token
    assert token.status_code == 200
    answer = _act(registrar, own, "close")
    assert answer.status_code == 409
    foreign = registrar.post(f"/workbench/cases/{case_id}/close",
                             data={"csrf_token": csrf_of(token.text)})
    assert foreign.status_code == 404 and "未找到" in foreign.text


def test_a_registrar_corrects_a_case_with_a_reason(site, site_client, staff_client, institution_id):
    case = _case(site, site_client, institution_id, deceased_name="张三")
    registrar = staff_client("registrar", institution_id)
    path = f"/workbench/cases/{case['id']}/correct"
    form = registrar.get(path)
    assert form.status_code == 200 and 'value="张三"' in form.text and case["id_number"] not in form.text
    held = _form_values(form.text)
    nothing = registrar.post(path, data=held | {"csrf_token": csrf_of(form.text), "reason": "核对"})
    assert nothing.status_code == 400 and "请至少修改一项内容" in nothing.text
    emptied = registrar.post(path, data=held | {"csrf_token": csrf_of(form.text), "birth_date": "", "reason": "核对"})
    assert emptied.status_code == 400 and 'id="birth_date-error"' in emptied.text and "请填写出生日期" in emptied.text
    informant = registrar.post(path, data=held | {"csrf_token": csrf_of(form.text), "informant_relation": "配偶",
                                                  "reason": "经办人关系填错"})
    assert informant.status_code == 400 and 'id="informant_phone-error"' in informant.text  # the whole informant
    no_reason = registrar.post(path, data=held | {"csrf_token": csrf_of(form.text), "deceased_name": "张叁"})
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.text and 'value="张叁"' in no_reason.text
    done = registrar.post(path, data=held | {"csrf_token": csrf_of(form.text), "deceased_name": "张叁",
                                             "reason": "依据户口簿更正姓名"}, follow_redirects=True)
    assert "案件信息已更正" in done.text and "依据户口簿更正姓名" in done.text and "逝者姓名" in done.text
    corrected = _api_case(site, site_client, case["id"])
    assert corrected["deceased_name"] == "张叁" and corrected["id_number"] == case["id_number"]
    assert corrected["informant"] == case["informant"]
    log = site_client.get(f"/api/v1/cases/{case['id']}/corrections", headers=api_headers(site, "reviewer")).json()
    assert [c["fields"] for c in log] == [["deceased_name"]]


def _offers(html: str, case_id: str, action: str) -> bool:
    return f'action="/workbench/cases/{case_id}/{action}"' in html


def _form_values(html: str) -> dict[str, str]:
    """What a browser would post: each input's value and each select's chosen option."""
    values = dict(re.findall(r'name="(\w+)" type="[\w-]+"\s+value="([^"]*)"', html))
    for name, body in re.findall(r'<select[^>]* name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    return {k: v for k, v in values.items() if k != "csrf_token"}


def test_an_action_posted_without_this_sessions_token_is_refused_and_not_done(site, site_client, staff_client,
                                                                             institution_id):
    case_id = _case(site, site_client, institution_id)["id"]
    reviewer = staff_client("reviewer")
    answer = reviewer.post(f"/workbench/cases/{case_id}/register", data={"csrf_token": "0" * 64})
    assert answer.status_code == 403 and "页面已过期" in answer.text
    assert _api_case(site, site_client, case_id)["status"] == "declared"
