"""Attachments: accepted by content within the size limit, scanned, stored encrypted, downloaded by the applicant
and the handling staff only, every download audited."""
import stat
import uuid

import pytest
from fastapi.testclient import TestClient

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import submit_approval
from registry.approvals.models import ApprovalAttachment
from registry.security import crypto

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture
def approval(client, citizen):
    return submit_approval(client, citizen)["approval"]


def _upload(client, approval_id, data, headers, declared="application/pdf"):
    return client.post(f"/api/v1/my/approvals/{approval_id}/attachments", content=data,
                       headers={**headers, "Content-Type": declared})


@pytest.mark.parametrize("data,media_type", [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_pdf_jpeg_and_png_are_taken_by_their_content(client, session, citizen, approval, data, media_type):
    response = _upload(client, approval["id"], data, citizen, declared="application/octet-stream")
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == media_type and response.json()["size"] == len(data)
    assert response.json()["sm3"] == crypto.sm3_hex(data)
    stored = session.get(ApprovalAttachment, uuid.UUID(response.json()["id"]))
    assert data not in stored.content_cipher  # encrypted at rest
    assert last_audit(session).action == "approval.attach"


@pytest.mark.parametrize("data", [b"MZ\x90\x00" + b"\x00" * 64, b"GIF89a" + b"\x00" * 64, b"just text, named x.pdf", b""])
def test_anything_else_is_refused_whatever_it_declares(client, session, citizen, approval, data):
    before = snapshot(session, ApprovalAttachment)
    assert_problem(_upload(client, approval["id"], data, citizen), 422, "file", "attachment_type")
    assert_refused_and_nothing_written(session, before, ApprovalAttachment)


def test_the_upload_route_alone_takes_bodies_up_to_the_attachment_limit(client, citizen, approval, app):
    big = PDF + b"%" + b"0" * (200 * 1024)  # well over the app's 64 KiB, under the attachment limit
    assert _upload(client, approval["id"], big, citizen).status_code == 201
    limit = app.state.ctx.settings.attachment_max_bytes
    assert_problem(_upload(client, approval["id"], PDF + b"0" * limit, citizen), 413, "body", "max_size")
    other = client.post("/api/v1/approvals", content=b"{" + b" " * (200 * 1024) + b"}",
                        headers={**citizen, "Content-Type": "application/json"})
    assert_problem(other, 413, "body", "max_size")


def test_the_owner_and_handling_staff_download_it_audited_and_no_one_else(client, session, mint, citizen, approval):
    attachment = _upload(client, approval["id"], PDF, citizen).json()
    mine = client.get(f"/api/v1/my/approvals/{approval['id']}/attachments/{attachment['id']}", headers=citizen)
    assert mine.status_code == 200 and mine.content == PDF
    assert mine.headers["content-type"] == "application/pdf"
    assert mine.headers["content-disposition"] == f'attachment; filename="{approval["number"]}-1.pdf"'
    assert last_audit(session).action == "approval.download_attachment"
    reviewer = mint("reviewer", subject="reviewer-1")
    staff = client.get(f"/api/v1/approvals/{approval['id']}/attachments/{attachment['id']}", headers=reviewer)
    assert staff.content == PDF and last_audit(session).actor == "reviewer-1"
    stranger = mint("citizen", subject="citizen-0002")
    assert client.get(f"/api/v1/my/approvals/{approval['id']}/attachments/{attachment['id']}",
                      headers=stranger).status_code == 404
    assert _upload(client, approval["id"], PDF, stranger).status_code == 404
    listed = client.get(f"/api/v1/approvals/{approval['id']}", headers=reviewer).json()["attachments"]
    assert [a["id"] for a in listed] == [attachment["id"]]


def test_no_attachment_after_the_review(client, citizen, approval, mint):
    reviewer = mint("reviewer")
    client.post(f"/api/v1/approvals/{approval['id']}/accept", headers=reviewer)
    client.post(f"/api/v1/approvals/{approval['id']}/review", headers=reviewer)
    assert_problem(_upload(client, approval["id"], PDF, citizen), 409, "status", "approval_status")


@pytest.fixture
def scanning(settings, tmp_path):
    """The app with a scanner that calls a file infected when it holds the EICAR marker."""
    from registry.app import create_app

    script = tmp_path / "scan.sh"
    script.write_text('#!/bin/sh\nif grep -q EICAR-STANDARD-ANTIVIRUS-TEST-FILE "$1"; then exit 1; fi\nexit 0\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    app = create_app(settings.model_copy(update={"virus_scan_command": str(script)}))
    with TestClient(app) as client:
        yield client
    app.state.ctx.engine.dispose()


def test_the_scanner_refuses_an_infected_file_and_passes_a_clean_one(scanning, session):
    citizen = {"Authorization": f"Bearer {scanning.app.state.ctx.issuer.mint('citizen-9', ['citizen'])}"}
    approval = submit_approval(scanning, citizen)["approval"]
    infected = PDF + b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"
    before = snapshot(session, ApprovalAttachment)
    assert_problem(_upload(scanning, approval["id"], infected, citizen), 422, "file", "attachment_infected")
    assert_refused_and_nothing_written(session, before, ApprovalAttachment)
    assert _upload(scanning, approval["id"], PDF, citizen).status_code == 201
    assert scanning.get("/readyz").json()["virus_scan"] == "configured"


def test_a_scanner_that_cannot_run_refuses_for_now(settings, tmp_path):
    from registry.app import create_app

    app = create_app(settings.model_copy(update={"virus_scan_command": str(tmp_path / "no-such-scanner")}))
    with TestClient(app) as client:
        citizen = {"Authorization": f"Bearer {app.state.ctx.issuer.mint('citizen-9', ['citizen'])}"}
        approval = submit_approval(client, citizen)["approval"]
        assert_problem(_upload(client, approval["id"], PDF, citizen), 503, "file", "attachment_scan")
    app.state.ctx.engine.dispose()


def test_without_a_scanner_the_tenant_status_says_so(client):
    assert client.get("/readyz").json()["virus_scan"] == "not configured"


def test_the_larger_limit_follows_the_upload_route_under_a_mount_path_and_nothing_else():
    from registry.approvals.attachments import UPLOAD_PATH

    approval_id = uuid.uuid4()
    assert UPLOAD_PATH.fullmatch(f"/api/v1/my/approvals/{approval_id}/attachments")
    assert UPLOAD_PATH.fullmatch(f"/beijing/api/v1/my/approvals/{approval_id}/attachments")  # under `fsp serve`
    assert not UPLOAD_PATH.fullmatch(f"/api/v1/my/approvals/{approval_id}/attachments/x")
    assert not UPLOAD_PATH.fullmatch(f"/api/v1/approvals/{approval_id}/accept")
