"""Online approvals (网上审批): what a citizen submits, what is stored, and what staff and the citizen are shown.

Two kinds: a funeral facility to be built or changed (殡葬设施审批) and the transport of remains to another
province (遗体跨省运输). What an application says is stored encrypted as a whole (it names people and places);
the columns beside it are what lists filter by and what events may carry: kind, status, regions, dates.
"""
import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from sqlalchemy import LargeBinary, Text
from sqlmodel import Field, SQLModel

from registry.cases.models import IdType, checked_id_number
from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import CreditCode, Name, Phone, RegionCode, rule_error, text


class ApprovalKind(StrEnum):
    facility = "facility"    # 殡葬设施审批
    transport = "transport"  # 遗体跨省运输


class ApprovalStatus(StrEnum):
    submitted = "submitted"  # 已提交, waiting for acceptance
    accepted = "accepted"    # 已受理
    refused = "refused"      # 不予受理
    reviewed = "reviewed"    # 已审查, waiting for the decision
    approved = "approved"    # 准予许可
    rejected = "rejected"    # 不予许可


# statuses in which the administration owes the next step: each has a deadline
OPEN_STATUSES = (ApprovalStatus.submitted, ApprovalStatus.accepted, ApprovalStatus.reviewed)


class FacilityType(StrEnum):
    cemetery = "cemetery"          # 公墓
    funeral_home = "funeral_home"  # 殡仪馆
    columbarium = "columbarium"    # 骨灰堂


class ChangeKind(StrEnum):
    build = "build"    # 新建
    expand = "expand"  # 扩建
    alter = "alter"    # 改建


class FacilityApplication(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_name: Name
    credit_code: CreditCode
    region_code: RegionCode  # where the facility is (GB/T 2260, inside the province)
    facility_type: FacilityType
    change_kind: ChangeKind
    description: text(2000, multiline=True)


VEHICLE_PLATE = r"^[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}$"  # 京A12345, new-energy plates one longer


class TransportApplication(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deceased_name: Name
    id_type: IdType
    id_number: text(40, min_length=0) | None = None
    from_region: RegionCode
    from_place: text(200)
    to_region: RegionCode
    to_place: text(200)
    planned_on: date
    vehicle_plate: str = Check(pattern=VEHICLE_PLATE)
    escort_name: Name
    escort_phone: Phone

    @model_validator(mode="after")
    def _rules(self):
        self.id_number = checked_id_number(self.id_type, self.id_number)
        if self.from_region[:2] == self.to_region[:2]:
            raise rule_error("to_region", "cross_province", "to_region is in the province of from_region")
        return self


class ApprovalCreate(BaseModel):
    """One application: its kind, and the details of that kind (and only those)."""
    model_config = ConfigDict(extra="forbid")

    kind: ApprovalKind
    facility: FacilityApplication | None = None
    transport: TransportApplication | None = None

    @model_validator(mode="after")
    def _details_of_the_kind(self):
        other = ApprovalKind.transport if self.kind == ApprovalKind.facility else ApprovalKind.facility
        if getattr(self, self.kind.value) is None:
            raise rule_error(self.kind.value, "missing", f"{self.kind.value} details are required")
        if getattr(self, other.value) is not None:
            raise rule_error(other.value, "not_applicable", f"a {self.kind.value} application has no {other.value}")
        return self

    @property
    def details(self) -> FacilityApplication | TransportApplication:
        return self.facility or self.transport


class Reasons(BaseModel):
    """Why an application is refused or rejected: the applicant reads it (说明理由, 行政许可法 第三十八条)."""
    model_config = ConfigDict(extra="forbid")

    reasons: text(1000, min_length=2, multiline=True)


class Opinion(BaseModel):
    """A step's optional remark (e.g. the review's opinion)."""
    model_config = ConfigDict(extra="forbid")

    opinion: text(1000, multiline=True) | None = None


class Approval(SQLModel, table=True):
    __tablename__ = "approvals"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    kind: ApprovalKind = Field(index=True)
    status: ApprovalStatus = Field(default=ApprovalStatus.submitted, index=True)
    owner_subject: str = Field(max_length=200, index=True)
    query_code_digest: str = Field(max_length=64, unique=True)
    # where: the facility's region, or where the remains leave from; and where they go (transport only)
    region_code: str = Field(max_length=6)
    to_region: str | None = Field(default=None, max_length=6)
    planned_on: date | None = None
    facility_type: FacilityType | None = None
    change_kind: ChangeKind | None = None
    # the organisation's name, or the deceased's name masked: what a list shows
    summary: str = Field(max_length=100)
    id_number_index: str | None = Field(default=None, max_length=64, index=True)
    # the whole application, SM4-encrypted under the approval's id
    details_cipher: str = Field(sa_type=Text)
    submitted_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted_on: date | None = None
    # the last day the open step may take (None once decided or refused)
    due_on: date | None = Field(default=None, index=True)
    updated_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApprovalStep(SQLModel, table=True):
    __tablename__ = "approval_steps"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    approval_id: uuid.UUID = Field(foreign_key="approvals.id", index=True)
    status: ApprovalStatus  # what the step made of the application
    actor: str = Field(max_length=200)
    at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # the reasons of a refusal or rejection, the opinion of a review
    remark: str | None = Field(default=None, max_length=1000)
    # whether it came after its deadline
    late: bool = False


class StepPublic(BaseModel):
    status: ApprovalStatus
    actor: str | None  # staff see who took the step; the applicant sees the step
    at: ChinaTime
    remark: str | None
    late: bool


class ApprovalPublic(BaseModel):
    id: uuid.UUID
    number: str
    kind: ApprovalKind
    status: ApprovalStatus
    region_code: str
    to_region: str | None
    planned_on: date | None
    facility_type: FacilityType | None
    change_kind: ChangeKind | None
    summary: str
    submitted_at: ChinaTime
    accepted_on: date | None
    due_on: date | None
    overdue: bool
    updated_at: ChinaTime


class ApprovalDetail(ApprovalPublic):
    """One approval with what it says (masked where it names the deceased or the escort) and its steps."""
    facility: dict | None
    transport: dict | None
    steps: list[StepPublic]
    attachments: list["AttachmentPublic"] = []
    permit: "PermitPublic | None" = None


class ApprovalReceipt(BaseModel):
    """The answer to a submission: the approval and its query code, shown this once and never again."""
    approval: ApprovalPublic
    query_code: str


class ApprovalsPublic(BaseModel):
    data: list[ApprovalPublic]
    count: int = Check(description="how many approvals match, over all pages")


class ApprovalFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ApprovalKind | None = None
    status: ApprovalStatus | None = None
    overdue: bool | None = Check(default=None, description="only open approvals past their deadline (true) or not")
    offset: int = Check(default=0, ge=0, le=2**31 - 1)
    limit: int = Check(default=50, ge=1, le=200)



class AttachmentType(StrEnum):
    pdf = "application/pdf"
    jpeg = "image/jpeg"
    png = "image/png"


class ApprovalAttachment(SQLModel, table=True):
    """A file supporting an application, as its content showed it to be, SM4-encrypted under the approval's id."""
    __tablename__ = "approval_attachments"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    approval_id: uuid.UUID = Field(foreign_key="approvals.id", index=True)
    media_type: AttachmentType
    size: int
    # SM3 of the plaintext: what the applicant and staff compare a download with
    sm3: str = Field(max_length=64)
    content_cipher: bytes = Field(sa_type=LargeBinary)
    uploaded_by: str = Field(max_length=200)
    uploaded_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttachmentPublic(BaseModel):
    id: uuid.UUID
    approval_id: uuid.UUID
    media_type: AttachmentType
    size: int
    sm3: str
    uploaded_at: ChinaTime


class TransportPermit(SQLModel, table=True):
    """The permit (遗体跨省运输证明) an approved transport produces: its number, check code and what the receiving
    province checks at arrival (destination, date, vehicle)."""
    __tablename__ = "transport_permits"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    approval_id: uuid.UUID = Field(foreign_key="approvals.id", unique=True)
    number: str = Field(max_length=32, unique=True)
    check_code: str = Field(max_length=16)
    issued_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    to_region: str = Field(max_length=6)
    planned_on: date
    vehicle_plate: str = Field(max_length=10)


class PermitPublic(BaseModel):
    number: str
    check_code: str
    issued_at: ChinaTime
    to_region: str
    planned_on: date
    vehicle_plate: str
    qr_text: str


ApprovalDetail.model_rebuild()
