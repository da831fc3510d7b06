"""Approvals in the workbench: the queue with its filters and paging, one approval with its steps and attachments,
and the steps of the signed-in role taken through the registry's API (PRG; refusals beside their field)."""
from factories import facility_approval_payload, submit_approval, transport_approval_payload
from staff_signing import csrf_of

PDF = b"%PDF-1.7\n%%EOF\n"


def _citizen(site):
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint('citizen-0001', ['citizen'])}"}


def test_the_queue_filters_by_kind_status_and_overdue_and_pages(site, site_client, staff_client):
    citizen = _citizen(site)
    for n in range(21):
        submit_approval(site_client, citizen, facility_approval_payload(organisation_name=f"某公墓管理处{n:02d}"))
    transport = submit_approval(site_client, citizen, transport_approval_payload())["approval"]
    client = staff_client("reviewer")
    first = client.get("/workbench/approvals")
    assert first.status_code == 200 and "共 22 件" in first.text and "第 1 页，共 2 页" in first.text
    assert 'aria-current="page">网上审批' in first.text
    assert first.text.count('href="/workbench/approvals/') == 20
    only = client.get("/workbench/approvals", params={"kind": "transport", "status": "submitted"})
    assert "共 1 件" in only.text and transport["number"] in only.text and "张*" in only.text
    assert "张三" not in only.text  # lists show the deceased's name masked
    assert "共 0 件" in client.get("/workbench/approvals", params={"overdue": "true"}).text
    refused = client.get("/workbench/approvals", params={"kind": "burial"})
    assert refused.status_code == 400 and 'id="kind-error"' in refused.text


def test_roles_without_approvals_see_neither_the_queue_nor_its_link(staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    assert client.get("/workbench/approvals").status_code == 403
    assert "/workbench/approvals" not in client.get("/workbench/cases").text


def test_the_reviewer_accepts_and_reviews_then_the_admin_approves_a_transport(site, site_client, staff_client):
    citizen = _citizen(site)
    approval = submit_approval(site_client, citizen, transport_approval_payload())["approval"]
    page_path = f"/workbench/approvals/{approval['id']}"
    reviewer = staff_client("reviewer")
    page = reviewer.get(page_path)
    assert page.status_code == 200 and "张三" in page.text and "待受理" in page.text
    assert "受理" in page.text and "准予许可</button>" not in page.text  # the decision is not the reviewer's
    done = reviewer.post(f"{page_path}/accept", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"{page_path}?done=accept")
    page = reviewer.get(f"{page_path}?done=accept")
    assert "已受理，办理期限已按受理日期重新计算。" in page.text
    reviewer.post(f"{page_path}/review", data={"csrf_token": csrf_of(page.text), "review_opinion": "材料齐全"})
    admin = staff_client("provincial-admin")
    page = admin.get(page_path)
    assert "张**" in page.text and "材料齐全" in page.text  # the admin may not read personal data
    admin.post(f"{page_path}/approve", data={"csrf_token": csrf_of(page.text)})
    page = admin.get(page_path)
    assert "准予许可" in page.text and "遗体跨省运输证明" in page.text and "110000-YZ-" in page.text


def test_a_rejection_without_reasons_is_shown_beside_its_field_and_nothing_changes(site, site_client, staff_client):
    citizen = _citizen(site)
    approval = submit_approval(site_client, citizen)["approval"]
    page_path = f"/workbench/approvals/{approval['id']}"
    reviewer = staff_client("reviewer")
    page = reviewer.get(page_path)
    refused = reviewer.post(f"{page_path}/refuse", data={"csrf_token": csrf_of(page.text), "refuse_reasons": ""})
    assert refused.status_code == 400 and 'id="refuse_reasons-error"' in refused.text
    assert "待受理" in reviewer.get(page_path).text
    no_token = reviewer.post(f"{page_path}/accept", data={})
    assert no_token.status_code == 403 and "待受理" in reviewer.get(page_path).text


def test_staff_download_an_attachment_from_the_approval_page(site, site_client, staff_client):
    citizen = _citizen(site)
    approval = submit_approval(site_client, citizen)["approval"]
    uploaded = site_client.post(f"/api/v1/my/approvals/{approval['id']}/attachments", content=PDF,
                                headers={**citizen, "Content-Type": "application/pdf"})
    assert uploaded.status_code == 201, uploaded.text
    client = staff_client("reviewer")
    page = client.get(f"/workbench/approvals/{approval['id']}")
    link = f"/workbench/approvals/{approval['id']}/attachments/{uploaded.json()['id']}"
    assert link in page.text
    file = client.get(link)
    assert file.status_code == 200 and file.content == PDF and file.headers["content-type"] == "application/pdf"
    assert file.headers["content-disposition"] == f'attachment; filename="{approval["number"]}-1.pdf"'
