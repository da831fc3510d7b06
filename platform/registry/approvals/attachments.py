"""Attachments of an application: PDF, JPEG or PNG by their content (magic bytes, never the name or declared type),
within a size limit, scanned for viruses when a scanner is configured, stored SM4-encrypted under the approval's
id; downloaded by the applicant and the staff who handle approvals, every download audited.
"""
import re
import shlex
import subprocess
import tempfile
import uuid
from pathlib import Path

import filetype
from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.approvals import service
from registry.approvals.models import Approval, ApprovalAttachment, ApprovalStatus, AttachmentPublic, AttachmentType
from registry.config import Settings
from registry.context import TenantContext
from registry.errors import Conflict, DomainError, Invalid, NotFound
from registry.security import crypto
from registry.security.auth import Principal

MAX_ATTACHMENTS = 10
# an applicant adds material until the review is done (补正 after acceptance included), never after
OPEN_FOR_ATTACHMENTS = (ApprovalStatus.submitted, ApprovalStatus.accepted)
EXTENSIONS = {AttachmentType.pdf: "pdf", AttachmentType.jpeg: "jpg", AttachmentType.png: "png"}
# the upload route, under any mount path (the registry may be served at /beijing): its own body limit
UPLOAD_PATH = re.compile(r"(?:/[^/]+)*/api/v1/my/approvals/[0-9a-fA-F-]{36}/attachments")


class ScanUnavailable(DomainError):
    status, title = 503, "service unavailable"


def content_type(data: bytes) -> AttachmentType:
    """What the bytes are, read from their magic numbers; anything but PDF, JPEG and PNG is refused."""
    guessed = filetype.guess_mime(data[:8192]) if data else None
    try:
        return AttachmentType(guessed)
    except ValueError:
        raise Invalid("file", "attachment_type", "the file is not a PDF, JPEG or PNG (judged by its content)",
                      found=guessed or "unknown") from None


def scanner_status(settings: Settings) -> str:
    return "configured" if settings.virus_scan_command else "not configured"


def scan(settings: Settings, data: bytes) -> None:
    """Run the configured scanner on the file (its path the last argument): exit 0 is clean, any other infected.
    Without a scanner nothing is run (the tenant's /readyz says it is not configured)."""
    if not settings.virus_scan_command:
        return
    with tempfile.TemporaryDirectory(prefix="fsp-scan-") as directory:  # mode 0700: only this process reads it
        path = Path(directory) / "attachment"
        path.write_bytes(data)
        try:
            done = subprocess.run([*shlex.split(settings.virus_scan_command), str(path)], capture_output=True,
                                  timeout=settings.virus_scan_timeout_seconds, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ScanUnavailable("file", "attachment_scan", f"the virus scanner could not run: {type(exc).__name__}"
                                  ) from None
    if done.returncode != 0:
        raise Invalid("file", "attachment_infected", "the virus scanner refused the file")


def _context(approval_id: uuid.UUID) -> str:
    return f"approvals.attachment:{approval_id}"


def public(attachment: ApprovalAttachment) -> AttachmentPublic:
    return AttachmentPublic.model_validate(attachment, from_attributes=True)


def attach(session: Session, *, ctx: TenantContext, principal: Principal, approval_id: uuid.UUID,
           data: bytes) -> AttachmentPublic:
    """Add a file to the citizen's own open application (checked, scanned, encrypted before any lock)."""
    limit = ctx.settings.attachment_max_bytes
    if len(data) > limit:
        raise Invalid("file", "attachment_size", f"the file exceeds {limit} bytes", max_bytes=limit)
    media_type = content_type(data)
    _own(session, principal, approval_id)  # a stranger learns nothing from the scan or the type
    scan(ctx.settings, data)
    sealed = ctx.seal(_context(approval_id), data)
    with ctx.journal.write(session, actor=principal.subject) as unit:
        approval = _own(session, principal, approval_id)
        if approval.status not in OPEN_FOR_ATTACHMENTS:
            raise Conflict("status", "approval_status", f"approval {approval.number} is {approval.status.value}",
                           current=approval.status.value)
        held = session.exec(select(func.count()).select_from(ApprovalAttachment)
                            .where(ApprovalAttachment.approval_id == approval.id)).one()
        if held >= MAX_ATTACHMENTS:
            raise Conflict("file", "attachments_full", f"at most {MAX_ATTACHMENTS} attachments", max_count=MAX_ATTACHMENTS)
        attachment = ApprovalAttachment(approval_id=approval.id, media_type=media_type, size=len(data),
                                        sm3=crypto.sm3_hex(data), content_cipher=sealed, uploaded_by=principal.subject)
        session.add(attachment)
        unit.record(action="approval.attach", object_type="approval_attachment", object_id=attachment.id,
                    detail={"approval_id": str(approval.id), "media_type": media_type.value, "size": len(data)})
    return public(attachment)


def _own(session: Session, principal: Principal, approval_id: uuid.UUID) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None or approval.owner_subject != principal.subject:
        raise NotFound("approval_id", f"approval {approval_id} does not exist")
    return approval


def listed(session: Session, approval_id: uuid.UUID) -> list[AttachmentPublic]:
    rows = session.exec(select(ApprovalAttachment).where(ApprovalAttachment.approval_id == approval_id)
                        .order_by(col(ApprovalAttachment.uploaded_at), col(ApprovalAttachment.id))).all()
    return [public(row) for row in rows]


def download(session: Session, *, ctx: TenantContext, principal: Principal, approval_id: uuid.UUID,
             attachment_id: uuid.UUID) -> tuple[ApprovalAttachment, bytes, str]:
    """The file, decrypted, with a file name from the approval's number; the download is audited."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        approval = service.find(session, principal=principal, approval_id=approval_id)
        attachment = session.get(ApprovalAttachment, attachment_id)
        if attachment is None or attachment.approval_id != approval.id:
            raise NotFound("attachment_id", f"attachment {attachment_id} does not exist")
        unit.record(action="approval.download_attachment", object_type="approval_attachment", object_id=attachment.id,
                    detail={"approval_id": str(approval.id)})
    data = ctx.unseal(_context(approval.id), attachment.content_cipher)
    position = [a.id for a in listed(session, approval.id)].index(attachment.id) + 1
    return attachment, data, f"{approval.number}-{position}.{EXTENSIONS[attachment.media_type]}"
