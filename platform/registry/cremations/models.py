"""Cremation (火化) and the cremation certificate (火化证明): accepted, stored and shown are separate classes."""
import uuid
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from sqlmodel import Field, SQLModel

from registry.cremations.qr import new_check_code
from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import EventTime, Name, rule_error, text


class CremationCreate(BaseModel):
    """What the cremating institution records once the cremation is done."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    institution_id: uuid.UUID
    started_at: EventTime
    ended_at: EventTime
    furnace_no: str = Check(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")
    operator_name: Name

    @model_validator(mode="after")
    def _rules(self):
        if self.ended_at < self.started_at:
            raise rule_error("ended_at", "date_order", "ended_at must not be before started_at")
        return self


class Cremation(SQLModel, table=True):
    __tablename__ = "cremations"
    # one cycle of a cremator performed one cremation
    __table_args__ = (sa.UniqueConstraint("cycle_device_id", "cycle", name="uq_cremations_cycle"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", unique=True, index=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    started_at: ChinaTime = Field(sa_type=UTCDateTime)
    ended_at: ChinaTime = Field(sa_type=UTCDateTime)
    furnace_no: str = Field(max_length=20)
    operator_name: str = Field(max_length=100)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # the cremator cycle that performed it (registry.equipment.cycles): its real times, as the cremator measured them
    cycle_device_id: uuid.UUID | None = Field(default=None, foreign_key="equipment_devices.id")
    cycle: str | None = Field(default=None, max_length=64)
    cycle_started_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)
    cycle_ended_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)


class CremationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    institution_id: uuid.UUID
    started_at: ChinaTime
    ended_at: ChinaTime
    furnace_no: str
    operator_name: str
    created_at: ChinaTime
    cycle_device_id: uuid.UUID | None = None
    cycle: str | None = None
    cycle_started_at: ChinaTime | None = None
    cycle_ended_at: ChinaTime | None = None


class CertificateStatus(StrEnum):
    valid = "valid"
    cancelled = "cancelled"


class CertificateReason(BaseModel):
    """Why a certificate is reissued or cancelled; the reason is kept on the cancelled certificate."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: text(500, min_length=2, multiline=True)


_VALID = sa.text("status = 'valid'")


class Certificate(SQLModel, table=True):
    __tablename__ = "cremation_certificates"
    # the database itself keeps at most one valid certificate per case, whatever the code above it does
    __table_args__ = (
        sa.Index("uq_cremation_certificates_valid_case", "case_id", unique=True,
                 sqlite_where=_VALID, postgresql_where=_VALID),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    cremation_id: uuid.UUID = Field(foreign_key="cremations.id", index=True)
    number: str = Field(max_length=32, unique=True, index=True)
    status: CertificateStatus = Field(default=CertificateStatus.valid)
    issued_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=500)
    replaces_id: uuid.UUID | None = Field(default=None, foreign_key="cremation_certificates.id")
    # 查验码: kept as issued, not hashed, because staff reprint it on the certificate and the workbench shows it;
    # it guards only the certificate's status (no personal data) and lives beside the case data it would reveal
    check_code: str = Field(default_factory=new_check_code, max_length=16)


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    cremation_id: uuid.UUID
    number: str
    status: CertificateStatus
    issued_at: ChinaTime
    cancelled_at: ChinaTime | None
    cancel_reason: str | None
    replaces_id: uuid.UUID | None


class CertificateStaffView(CertificatePublic):
    """What staff who may read the case see: with the check code printed on the paper. Events sent to the
    ministry carry CertificatePublic, without it."""
    check_code: str


class CertificatePrintable(CertificateStaffView):
    """A certificate as its print page needs it: the institution that cremated, and the signed QR text."""
    institution_name: str
    cremated_at: ChinaTime
    qr_text: str


class CertificatesPublic(BaseModel):
    data: list[CertificateStaffView]
    count: int
