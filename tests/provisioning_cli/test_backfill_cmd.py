"""`fsp backfill`: a JSON Lines archive file into a served province, answered line by line, safe to re-run."""
import json
import stat
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from factories import case_payload, create_institution, resident_id
from provisioning_cli.targets.local import LocalTarget
from registry.app import create_app
from registry.audit.models import AuditEntry
from registry.cases.models import Case
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


def test_a_file_is_imported_in_batches_and_a_re_run_changes_nothing(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive-2011.jsonl"
    archive.write_text("\n".join(_line(crematorium, n) for n in range(7)) + "\n\n", encoding="utf-8")

    first = json.loads(fsp("backfill", "beijing", str(archive), "--batch", "3", "--json").stdout)
    after_first = _counts(beijing)
    again = json.loads(fsp("backfill", "beijing", str(archive), "--json").stdout)

    assert (first["created"], first["already_present"], first["refused"], first["unreadable"]) == (7, 0, 0, 0)
    assert (again["created"], again["already_present"], again["refused"]) == (0, 7, 0)
    assert _counts(beijing) == after_first
    with Session(beijing.state.ctx.engine) as session:
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "case.import")))
    assert actors == {"fsp-backfill"}


def test_bad_lines_are_listed_written_to_rejects_and_the_rest_imported(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive.jsonl"
    lines = [_line(crematorium, 1), "{not json", _line(crematorium, 2, sex="x"), "[1, 2]", _line(crematorium, 3)]
    archive.write_text("\n".join(lines), encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"

    result = fsp("backfill", "beijing", str(archive), "--rejects", str(rejects), ok=False)

    assert "line 2: line: not JSON" in result.stderr and "line 3: sex:" in result.stderr
    assert "line 4: line: not a JSON object" in result.stderr
    assert _counts(beijing)[0] == 2
    refused = [json.loads(text) for text in rejects.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in refused] == [2, 3, 4]
    assert refused[1]["record"]["archive_ref"] == "BJ-2011/00002"  # the record as given, to fix and re-run
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600  # it holds personal data


def test_a_dry_run_reports_and_writes_nothing(fsp, tmp_path, beijing, crematorium):
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(_line(crematorium, n) for n in range(3)), encoding="utf-8")
    before = _counts(beijing)

    report = json.loads(fsp("backfill", "beijing", str(archive), "--dry-run", "--json").stdout)

    assert (report["dry_run"], report["created"], report["refused"]) == (True, 3, 0)
    assert _counts(beijing) == before


def test_without_a_server_or_with_a_bad_file_the_error_is_clear(fsp, tmp_path, home):
    fsp("up", "beijing")
    archive = tmp_path / "archive.jsonl"
    archive.write_text(_line(str(uuid.uuid4()), 1), encoding="utf-8")
    LocalTarget(home, load_catalog()).home.record_serve_address("127.0.0.1", 1)  # nothing listens there

    unreachable = fsp("backfill", "beijing", str(archive), ok=False)
    assert "is `fsp serve` running?" in unreachable.stderr

    (tmp_path / "gbk.jsonl").write_bytes("逝者".encode("gb18030"))
    assert "not UTF-8" in fsp("backfill", "beijing", str(tmp_path / "gbk.jsonl"), ok=False).stderr
    assert "No such file" in fsp("backfill", "beijing", str(tmp_path / "missing.jsonl"), ok=False).stderr
    assert "belong to a province" in fsp("backfill", "ministry", str(archive), ok=False).stderr


def test_a_batch_over_the_servers_body_limit_is_split_and_still_imported(fsp, tmp_path, served, beijing,
                                                                          crematorium):
    lines = [_line(crematorium, n, informant={"name": "张" * 80, "relation": "子女", "phone": "13812345678"})
             for n in range(100)]
    body = httpx.Request("POST", served, json={"records": [json.loads(line) for line in lines]}).content
    assert len(body) > 64 * 1024  # one request of them all would be refused (413)
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(lines), encoding="utf-8")

    report = json.loads(fsp("backfill", "beijing", str(archive), "--batch", "100", "--json").stdout)

    assert (report["created"], report["refused"]) == (100, 0)
