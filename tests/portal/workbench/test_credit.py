"""Credit evaluation in the workbench: the province's admin records an inspection and a penalty through the forms
(a refused field shown beside it), runs the evaluation and changes a list with a reason; a registrar sees its own
institution's score and facts, never another's; roles without either permission are refused."""

from assertions import text_of
from factories import TODAY, YEAR, create_institution, penalty_payload
from staff_signing import csrf_of


def test_the_admin_records_evaluates_and_lists_through_the_forms(site, site_client, admin, staff_client,
                                                                 institution_id):
    client = staff_client("provincial-admin")
    assert "信用评价" in client.get("/workbench/").text
    page = client.get("/workbench/credit")
    assert page.status_code == 200 and "该年度尚未开展评价。" in page.text

    refused = client.post(f"/workbench/credit/inspections?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "insp_institution_id": institution_id, "insp_year": str(YEAR),
        "insp_inspected_on": TODAY.isoformat(), "insp_result": "unqualified", "insp_findings": ""})
    assert refused.status_code == 400
    assert "年检结论为“基本合格”或“不合格”时，请列出检查发现的问题。" in refused.text
    assert 'id="insp_findings-error"' in refused.text  # beside its field

    done = client.post(f"/workbench/credit/inspections?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "insp_institution_id": institution_id, "insp_year": str(YEAR),
        "insp_inspected_on": TODAY.isoformat(), "insp_result": "basically_qualified", "insp_category": "safety",
        "insp_findings": "消防通道堆放杂物\n灭火器过期"}, follow_redirects=False)
    assert done.status_code == 303
    refused = client.post(f"/workbench/credit/penalties?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "pen_institution_id": institution_id, "pen_decided_on": TODAY.isoformat(),
        "pen_decision_no": "京民罚〔2026〕3号", "pen_kind": "fine", "pen_amount": "12.345", "pen_reason": "超标准收费"})
    assert refused.status_code == 400 and "请填写金额（元），最多两位小数" in refused.text
    client.post(f"/workbench/credit/penalties?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "pen_institution_id": institution_id, "pen_decided_on": TODAY.isoformat(),
        "pen_decision_no": "京民罚〔2026〕3号", "pen_kind": "fine", "pen_amount": "5000", "pen_reason": "超标准收费"})
    evaluated = client.post(f"/workbench/credit/evaluations?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "eval_year": str(YEAR)})

    shown = text_of(evaluated.text)
    assert evaluated.status_code == 200 and "评价已完成" in shown
    # 100 - 10 (基本合格) - 10 (a fine)
    assert "八宝山殡仪馆 80" in shown and "年检结论 -10 分" in shown and "安全生产·灭火器过期" in shown
    assert "京民罚〔2026〕3号（罚款）" in shown and "5,000.00 元" in shown

    no_reason = client.post(f"/workbench/credit/listing?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "list_institution_id": institution_id, "list_listing": "black"})
    assert no_reason.status_code == 400 and 'id="list_reason-error"' in no_reason.text
    listed = client.post(f"/workbench/credit/listing?year={YEAR}", data={
        "csrf_token": csrf_of(page.text), "list_institution_id": institution_id, "list_listing": "black",
        "list_reason": "多次超标准收费"})
    assert "黑名单（人工调整）" in text_of(listed.text) and "多次超标准收费" in listed.text


def test_a_registrar_sees_its_own_score_and_facts_only(site, site_client, admin, staff_client, institution_id):
    other = create_institution(site_client, admin, name="天寿园殡仪馆")["id"]
    assert site_client.post("/api/v1/credit/penalties", json=penalty_payload(other, decision_no="京民罚〔2026〕9号"),
                            headers=admin).status_code == 201
    registrar = staff_client("registrar", institution_id)
    assert "省民政厅尚未开展该年度的信用评价。" in registrar.get("/workbench/credit").text
    assert site_client.post("/api/v1/credit/evaluations", json={"year": YEAR}, headers=admin).status_code == 200

    own = text_of(registrar.get("/workbench/credit").text)

    assert "八宝山殡仪馆：95 分（红名单）" in own and "未登记年检" in own and "评价规则版本：2026.1" in own
    assert "天寿园" not in own and "京民罚〔2026〕9号" not in own
    assert "本机构信用评价" in registrar.get("/workbench/").text
    assert registrar.post(f"/workbench/credit/evaluations?year={YEAR}", data={"eval_year": str(YEAR)}).status_code == 403


def test_roles_without_credit_permissions_are_refused(staff_client):
    assert staff_client("auditor").get("/workbench/credit").status_code == 403
