"""`fsp backfill`: a province's own files (CSV in GB18030, XLSX, JSON Lines) into its registry, with a row-level
report, a dry run and re-runs that change nothing."""
import csv
import json
import stat
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session, func, select

from factories import ARCHIVE_COLUMNS, archive_mapping, archive_row, case_payload, create_institution, resident_id
from provisioning_cli.targets.local import LocalTarget
from registry.app import create_app
from registry.audit.models import AuditEntry
from registry.cases.models import Case
from registry.outbox.models import OutboxEvent
from served import serving_locally
from tenants import load_catalog


@pytest.fixture
def served(fsp, home: Path) -> Iterator[str]:
    """beijing provisioned and served by `fsp serve`'s app on a loopback port, recorded as its address."""
    fsp("up", "beijing")
    with serving_locally(home) as url:
        yield url


@pytest.fixture
def beijing(home: Path, served) -> Iterator:
    """beijing's app on its own database, for setting up an institution and looking at what was written."""
    target = LocalTarget(home, load_catalog())
    app = create_app(target.settings(target.catalog.resolve("beijing")))
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture
def crematorium(beijing) -> str:
    admin = {"Authorization": f"Bearer {beijing.state.ctx.issuer.mint('admin', ['provincial-admin'])}"}
    with TestClient(beijing) as client:
        return create_institution(client, admin, type="crematorium")["id"]


def _line(institution: str, n: int, **overrides) -> str:
    birth = date(1932, 4, 1 + n % 28)
    record = case_payload(institution, deceased_name=f"补录逝者{n:04d}", birth_date=birth.isoformat(),
                          id_number=resident_id(birth=birth, seq=n), death_certificate_no=f"BL-{n:06d}",
                          death_at="2011-08-09T07:30:00+08:00", archive_ref=f"BJ-2011/{n:05d}")
    return json.dumps({**record, **overrides}, ensure_ascii=False)


def _counts(app) -> tuple[int, int]:
    with Session(app.state.ctx.engine) as session:
        return (session.scalar(select(func.count()).select_from(Case)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _report(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as text:
        return list(csv.DictReader(text))


def _write_csv(path: Path, rows: list[dict], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(ARCHIVE_COLUMNS.values()))
        writer.writeheader()
        writer.writerows(rows)


def test_a_jsonl_file_is_imported_in_batches_and_a_re_run_changes_nothing(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive-2011.jsonl"
    archive.write_text("\n".join(_line(crematorium, n) for n in range(7)) + "\n\n", encoding="utf-8")

    first = json.loads(fsp("backfill", "beijing", str(archive), "--batch", "3", "--json").stdout)
    after_first = _counts(beijing)
    again = json.loads(fsp("backfill", "beijing", str(archive), "--json").stdout)

    assert (first["created"], first["already_present"], first["refused"], first["unreadable"]) == (7, 0, 0, 0)
    assert (again["created"], again["already_present"], again["refused"]) == (0, 7, 0)
    assert _counts(beijing) == after_first
    with Session(beijing.state.ctx.engine) as session:
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "case.import_batch")))
        events = session.scalar(select(func.count()).select_from(OutboxEvent)
                                .where(OutboxEvent.event_type == "case.imported"))
    assert actors == {"fsp-backfill"} and events == 7


def test_a_gb18030_csv_in_the_provinces_layout_imports_through_its_mapping_with_a_report(
        fsp, tmp_path, beijing, crematorium):
    rows = [archive_row(n, bad_every=5) for n in range(20)]  # rows 4, 9, 14, 19 bad: ID, date, sex, region
    archive = tmp_path / "山东-2012.csv"
    _write_csv(archive, rows, "gb18030")
    mapping = tmp_path / "shandong.yaml"
    mapping.write_text(yaml.safe_dump(archive_mapping(crematorium), allow_unicode=True), encoding="utf-8")
    report = tmp_path / "report.csv"

    result = fsp("backfill", "beijing", str(archive), "--mapping", str(mapping), "--report", str(report),
                 "--json", ok=False)

    summary = json.loads(result.stdout)
    assert (summary["created"], summary["refused"], summary["unreadable"]) == (16, 3, 1)
    assert [(r["line"], r["archive_ref"], r["field"], r["rule"]) for r in _report(report)] == [
        ("6", "SD-00000004", "id_number", "id_checksum"), ("11", "", "birth_date", "date_format"),
        ("16", "SD-00000014", "sex", "enum"), ("21", "SD-00000019", "household_region", "region_code_known")]
    assert "1931年2月30日" in _report(report)[1]["message"] and "不是有效日期" in _report(report)[1]["message"]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # it holds personal data
    with Session(beijing.state.ctx.engine) as session:
        case = session.scalar(select(Case).where(Case.archive_ref == "SD-00000001"))
    # 男 → 1, 汉族 → 01, 1920年1月1日 → a date, 2010年1月2日 10时30分 → 10:30 China Standard Time
    assert (case.sex.value, case.ethnicity, case.birth_date.isoformat()) == ("1", "01", "1920-01-01")
    assert case.death_at.isoformat() == "2010-01-02T02:30:00+00:00"  # stored in UTC


def test_an_xlsx_workbook_is_streamed_with_a_toml_mapping(fsp, tmp_path, beijing, crematorium):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("档案")
    sheet.append(list(ARCHIVE_COLUMNS.values()))
    for n in range(2500):
        sheet.append(list(archive_row(n, prefix="XL", bad_every=100).values()))
    archive = tmp_path / "archive.xlsx"
    workbook.save(archive)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in ARCHIVE_COLUMNS.items())
                       + f'[constants]\ninstitution_id = "{crematorium}"\n', encoding="utf-8")
    report = tmp_path / "report.csv"

    result = fsp("backfill", "beijing", str(archive), "--mapping", str(mapping), "--report", str(report),
                 "--json", ok=False)

    summary = json.loads(result.stdout)
    assert (summary["created"], summary["refused"] + summary["unreadable"]) == (2475, 25)
    assert len(_report(report)) == 25 and _report(report)[0]["line"] == "101"  # spreadsheet row 101: n = 99
    assert _counts(beijing)[0] == 2475


def test_with_many_small_batches_in_flight_the_report_keeps_the_file_order(fsp, tmp_path, beijing, crematorium):
    rows = [archive_row(n, bad_every=5) for n in range(20)]  # rows 4, 9, 14, 19 bad
    archive = tmp_path / "archive.csv"
    _write_csv(archive, rows, "utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(archive_mapping(crematorium), allow_unicode=True), encoding="utf-8")
    report = tmp_path / "report.csv"

    result = fsp("backfill", "beijing", str(archive), "--mapping", str(mapping), "--report", str(report),
                 "--batch", "2", "--json", ok=False)

    summary = json.loads(result.stdout)
    assert (summary["created"], summary["refused"], summary["unreadable"]) == (16, 3, 1)
    assert [r["line"] for r in _report(report)] == ["6", "11", "16", "21"]
    assert _counts(beijing)[0] == 16  # ten batches, two at a time, each written once


def test_a_dry_run_checks_every_row_and_writes_nothing(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join([*(_line(crematorium, n) for n in range(3)), _line(crematorium, 4, sex="x")]),
                       encoding="utf-8")
    before = _counts(beijing)

    report = json.loads(fsp("backfill", "beijing", str(archive), "--dry-run", "--json", ok=False).stdout)

    assert (report["dry_run"], report["created"], report["refused"]) == (True, 3, 1)
    assert _counts(beijing) == before


def test_unreadable_lines_are_reported_and_the_rest_imported(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join([_line(crematorium, 1), "{not json", "[1, 2]", _line(crematorium, 3)]),
                       encoding="utf-8")

    result = fsp("backfill", "beijing", str(archive), ok=False)

    assert "archive.jsonl.report.csv" in result.stderr
    rows = _report(tmp_path / "archive.jsonl.report.csv")
    assert [(r["line"], r["rule"], r["message"]) for r in rows] == [("2", "json_line", "此行不是一个 JSON 对象（{…}）。"),
                                                                   ("3", "json_line", "此行不是一个 JSON 对象（{…}）。")]
    assert _counts(beijing)[0] == 2


def test_without_a_server_or_with_a_bad_file_the_error_is_clear(fsp, tmp_path, home):
    fsp("up", "beijing")
    archive = tmp_path / "archive.jsonl"
    archive.write_text(_line(str(uuid.uuid4()), 1), encoding="utf-8")
    LocalTarget(home, load_catalog()).home.record_serve_address("127.0.0.1", 1)  # nothing listens there

    unreachable = fsp("backfill", "beijing", str(archive), ok=False)
    assert "is `fsp serve` running?" in unreachable.stderr

    (tmp_path / "latin.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    assert "is not utf-8" in fsp("backfill", "beijing", str(tmp_path / "latin.csv"), "--encoding", "utf-8",
                                 ok=False).stderr
    assert "No such file" in fsp("backfill", "beijing", str(tmp_path / "missing.jsonl"), ok=False).stderr
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    assert "not a .csv, .xlsx or .jsonl" in fsp("backfill", "beijing", str(tmp_path / "x.pdf"), ok=False).stderr
    (tmp_path / "bad.yaml").write_text("rows: {}", encoding="utf-8")
    assert "sections columns, constants and values" in fsp(
        "backfill", "beijing", str(archive), "--mapping", str(tmp_path / "bad.yaml"), ok=False).stderr
    assert "belong to a province" in fsp("backfill", "ministry", str(archive), ok=False).stderr


def test_a_batch_over_the_bulk_body_limit_is_split_and_its_rejects_keep_their_lines(fsp, tmp_path, home):
    fsp("up", "beijing")
    target = LocalTarget(home, load_catalog())
    settings_file = target.home.tenant("beijing").settings
    settings = json.loads(settings_file.read_text())
    settings_file.write_text(json.dumps({**settings, "max_import_body_bytes": 64 * 1024}))  # as small as allowed
    app = create_app(target.settings(target.catalog.resolve("beijing")))
    admin = {"Authorization": f"Bearer {app.state.ctx.issuer.mint('admin', ['provincial-admin'])}"}
    with TestClient(app) as client:
        crematorium = create_institution(client, admin, type="crematorium")["id"]
    app.state.ctx.engine.dispose()
    lines = [_line(crematorium, n) for n in range(300)]
    lines[250] = _line(crematorium, 250, sex="x")
    assert len("\n".join(lines).encode()) > 2 * 64 * 1024  # one request of them all would be refused (413)
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(lines), encoding="utf-8")
    report = tmp_path / "report.csv"

    with serving_locally(home):
        summary = json.loads(fsp("backfill", "beijing", str(archive), "--batch", "300", "--report", str(report),
                                 "--json", ok=False).stdout)

    assert (summary["created"], summary["refused"]) == (299, 1)
    assert [(r["line"], r["archive_ref"], r["rule"]) for r in _report(report)] == [("251", "BJ-2011/00250", "enum")]
