"""The provincial admin's backfill of archived cases: a JSON Lines upload sent to the registry in the batches it
accepts, and its answer line by line, on the page and as a CSV."""
import csv
import html
import io
import json
from datetime import date

import pytest
from sqlmodel import Session, select

from factories import case_payload, resident_id
from portal.workbench.imports import Line, batches
from registry.audit.models import AuditEntry
from registry.cases.models import Case
from staff_signing import csrf_of


def archived(institution_id: str, n: int, **overrides) -> dict:
    birth = date(1931, 3, 1 + n % 28)
    record = case_payload(institution_id, deceased_name=f"档案逝者{n:04d}", birth_date=birth.isoformat(),
                          id_number=resident_id(birth=birth, seq=n % 1000), death_certificate_no=f"A-{n:06d}",
                          death_at="2012-05-06T10:00:00+08:00", archive_ref=f"BJ-2012/{n:06d}")
    record.update(overrides)
    return record


def jsonl(records: list) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records).encode()


@pytest.fixture
def admin_client(staff_client):
    return staff_client("provincial-admin")


def upload(client, content: bytes, *, with_token: bool = True, **fields):
    page = client.get("/workbench/imports")
    data = {"csrf_token": csrf_of(page.text)} if with_token else {}
    return client.post("/workbench/imports", data={**data, **fields},
                       files={"file": ("archive.jsonl", content, "application/jsonl")} if content else None)


def cases(site) -> list[Case]:
    with Session(site.state.ctx.engine) as db:
        return list(db.exec(select(Case)))


def test_the_page_says_the_limits_of_the_registry(admin_client):
    page = admin_client.get("/workbench/imports")
    assert page.status_code == 200
    assert "不超过 64 KB" in page.text and "每批最多 100 条" in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text


def test_a_file_of_archived_cases_is_imported_in_batches_and_reported(site, admin_client, institution_id):
    records = [archived(institution_id, n) for n in range(105)]  # more than one batch of the registry's
    answer = upload(admin_client, jsonl(records))
    assert answer.status_code == 200, answer.text
    assert "共 105 条记录：新导入 105 条，已导入过 0 条，未导入 0 条。" in answer.text and "分 2 批提交" in answer.text
    assert "所有记录均已导入" in answer.text
    assert sorted(c.archive_ref for c in cases(site)) == [r["archive_ref"] for r in records]
    again = upload(admin_client, jsonl(records[:3]))
    assert "新导入 0 条，已导入过 3 条" in again.text and len(cases(site)) == 105


def test_pasted_lines_are_imported_like_a_file(site, admin_client, institution_id):
    page = admin_client.get("/workbench/imports")
    answer = admin_client.post("/workbench/imports", data={"csrf_token": csrf_of(page.text),
                                                           "lines": jsonl([archived(institution_id, 7)]).decode()})
    assert "新导入 1 条" in answer.text and [c.archive_ref for c in cases(site)] == ["BJ-2012/000007"]


def test_bad_lines_are_refused_one_by_one_and_the_good_ones_imported(site, admin_client, institution_id):
    lines = [archived(institution_id, 1),
             archived(institution_id, 2, death_at="2099-01-01T00:00:00+08:00"),
             "这不是一条记录",
             "",
             archived(institution_id, 5, archive_ref="BJ-2012/000001")]
    answer = upload(admin_client, jsonl(lines))
    assert answer.status_code == 200
    assert "共 4 条记录：新导入 1 条，已导入过 0 条，未导入 3 条。" in answer.text
    rows = answer.text.split("<tbody>")[1].split("</tbody>")[0]
    assert [line for line in range(1, 6) if f'<th scope="row" class="numeric">{line}</th>' in rows] == [2, 3, 5]
    assert "死亡时间" in rows and "BJ-2012/000002" in rows  # the field in Chinese, the line's archive number
    assert "此行不是一条 JSON 格式的记录" in rows
    assert [c.archive_ref for c in cases(site)] == ["BJ-2012/000001"]  # the registry answers each record alone
    with Session(site.state.ctx.engine) as db:
        refused = db.exec(select(AuditEntry).where(AuditEntry.action == "case.import",
                                                   AuditEntry.result == "refused")).all()
    assert sorted(e.object_id for e in refused) == ["BJ-2012/000001", "BJ-2012/000002"]


def test_the_report_downloads_as_a_csv_excel_reads(admin_client, institution_id):
    answer = upload(admin_client, jsonl([archived(institution_id, 1), archived(institution_id, 2, sex="X")]))
    report = answer.text.split('name="report" value="')[1].split('"')[0]
    download = admin_client.post("/workbench/imports/report.csv",
                                 data={"csrf_token": csrf_of(answer.text), "report": html.unescape(report)})
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "档案号", "结果", "案件编号", "字段", "原因"]
    assert rows[1][:3] == ["1", "BJ-2012/000001", "已导入"] and rows[1][3]
    assert rows[2][:3] == ["2", "BJ-2012/000002", "未导入"] and rows[2][4] == "性别" and rows[2][5]


def test_a_report_cell_that_a_spreadsheet_would_run_is_kept_as_text(admin_client):
    token = csrf_of(admin_client.get("/workbench/imports").text)
    report = [{"number": 1, "archive_ref": "=HYPERLINK(\"http://example.invalid\")", "outcome": "refused",
               "case_id": None, "errors": [{"field": "archive_ref", "message": "-1+1"}]}]
    download = admin_client.post("/workbench/imports/report.csv", data={"csrf_token": token,
                                                                        "report": json.dumps(report)})
    row = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))[1]
    assert row[1].startswith("'=") and row[5] == "'-1+1"


def test_an_upload_over_the_registry_limit_is_refused_and_nothing_written(site, admin_client, institution_id):
    content = jsonl([archived(institution_id, n) for n in range(130)])
    assert len(content) > 64 * 1024
    answer = upload(admin_client, content)
    assert answer.status_code == 413
    assert 'id="file-error"' in answer.text and "内容超过 64 KB，未导入任何记录" in answer.text
    assert cases(site) == []
    with Session(site.state.ctx.engine) as db:
        audited = db.exec(select(AuditEntry).where(AuditEntry.action == "staff.import")).all()
    assert [(e.result, e.actor) for e in audited] == [("refused", "provincial-admin-1")]


def test_nothing_to_import_or_two_sources_at_once_is_refused_beside_the_file(site, admin_client, institution_id):
    assert "请选择文件或粘贴记录" in upload(admin_client, b"").text
    both = upload(admin_client, jsonl([archived(institution_id, 1)]), lines="{}")
    assert both.status_code == 400 and "请只选择文件或只粘贴记录" in both.text and cases(site) == []


def test_batches_stay_under_the_count_and_the_body_limit():
    records = [(Line(n), {"archive_ref": f"R{n}", "note": "档" * 100}) for n in range(10)]
    by_count = batches(records, max_count=4, max_bytes=64 * 1024)
    assert [len(b) for b in by_count] == [4, 4, 2]
    by_size = batches(records, max_count=100, max_bytes=2000)
    assert all(len(json.dumps({"records": [r for _, r in b]}).encode()) <= 2000 for b in by_size)
    assert sum(len(b) for b in by_size) == 10 and len(by_size) > 1


def test_only_a_provincial_admin_imports(staff_client, institution_id):
    for client in (staff_client("registrar", institution_id), staff_client("auditor")):
        assert client.get("/workbench/imports").status_code == 403
        token = csrf_of(client.get("/workbench/").text)
        refused = client.post("/workbench/imports", data={"csrf_token": token, "lines": "{}"})
        assert refused.status_code == 403 and "无权办理" in refused.text


def test_an_upload_without_the_form_token_is_refused_and_nothing_written(site, admin_client, institution_id):
    answer = upload(admin_client, jsonl([archived(institution_id, 1)]), with_token=False)
    assert answer.status_code == 403 and "页面已过期" in answer.text and cases(site) == []
    csv_refused = admin_client.post("/workbench/imports/report.csv", data={"report": "[]"})
    assert csv_refused.status_code == 403
