"""Cross-province matches in the workbench: a reviewer sees the pairs the ministry returned (the province's own case
with its masked number, the other province by name), settles one with a finding, and sees a refusal beside the
row's fields; roles without cases:review are refused."""
import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from assertions import text_of
from factories import case_payload
from registry.cross_province import service as cross_province
from registry.exchange.matches import ReturnedMatch
from staff_signing import csrf_of

PAGE = "/workbench/cross-province-matches"


def _returned(site, site_client, institution_id: str, match_id: int) -> dict:
    """A case declared here and a pair naming it, kept as the shipper keeps what the ministry returns."""
    token = site.state.ctx.issuer.mint("registrar-1", ["registrar"], institution_id=uuid.UUID(institution_id))
    case = site_client.post("/api/v1/cases", json=case_payload(institution_id),
                            headers={"Authorization": f"Bearer {token}"}).json()
    with Session(site.state.ctx.engine) as session:
        cross_province.store(session, site.state.ctx.journal, [ReturnedMatch(
            id=match_id, case_id=case["id"], other_province="shandong", other_province_code="370000",
            other_case_id=uuid.UUID(int=match_id), found_at=datetime(2026, 11, 3, 2, tzinfo=UTC))])
    return case


def test_a_reviewer_settles_a_pair_and_sees_it_among_the_settled(site, site_client, staff_client, institution_id):
    case = _returned(site, site_client, institution_id, 7)
    reviewer = staff_client("reviewer")
    page = reviewer.get(PAGE)
    shown = text_of(page.text)
    assert page.status_code == 200
    assert "共 1 条线索" in shown and case["deceased_name"] in shown and "山东省" in shown
    assert case["id_number"] in shown  # masked by the registry: 110105********0032
    assert "2026-11-03 10:00" in shown  # the ministry's moment, in China time
    on_the_case = text_of(reviewer.get(f"/workbench/cases/{case['id']}").text)
    assert "部平台发现此人在山东省也有死亡登记（线索 7） ，待核查：去核查" in on_the_case  # the link's words

    done = reviewer.post(f"{PAGE}/7/finding", follow_redirects=False,
                         data={"csrf_token": csrf_of(page.text), "finding": "same_person", "note": "与山东核实为同一人"})
    assert done.status_code == 303 and done.headers["location"].endswith("state=settled&done=same_person")
    settled = text_of(reviewer.get(done.headers["location"]).text)
    assert "已记录：同一人，重复登记" in settled and "与山东核实为同一人" in settled and "reviewer-1" in settled
    assert "没有符合条件的线索" in text_of(reviewer.get(PAGE).text)  # nothing left to check
    assert "核查结论：同一人，重复登记。" in text_of(reviewer.get(f"/workbench/cases/{case['id']}").text)
    assert "跨省重复登记线索" not in text_of(staff_client("registrar", institution_id).get(
        f"/workbench/cases/{case['id']}").text)  # a registrar does not check pairs

    again = reviewer.post(f"{PAGE}/7/finding", data={"csrf_token": csrf_of(page.text), "finding": "different_people"})
    assert again.status_code == 409
    assert "该线索已有核查结论，不能再次填写。" in text_of(again.text)


def test_a_refused_finding_is_shown_beside_its_row(site, site_client, staff_client, institution_id):
    _returned(site, site_client, institution_id, 8)
    reviewer = staff_client("reviewer")
    page = reviewer.get(PAGE)
    refused = reviewer.post(f"{PAGE}/8/finding", data={"csrf_token": csrf_of(page.text), "finding": "maybe",
                                                      "note": "待定"})
    assert refused.status_code == 400
    assert 'href="#finding-8"' in refused.text and 'id="finding-8-error"' in refused.text
    assert 'value="待定"' in refused.text  # what was typed stays


def test_roles_without_cases_review_are_refused(staff_client, institution_id):
    assert staff_client("registrar", institution_id).get(PAGE).status_code == 403
    assert staff_client("provincial-admin").get(PAGE).status_code == 403
    assert "跨省重复登记核查" in staff_client("reviewer").get("/workbench/").text
