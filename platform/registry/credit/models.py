"""Institution credit evaluation (信用评价): the province's annual inspections (年检) and administrative penalties
(行政处罚) of institutions, and each institution's yearly score with the facts behind it and its place on the red
or black list (红黑名单). Nothing here names a person: institutions, dates, decisions and counts."""
import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, today_in_china, utcnow
from registry.validators import Day, ShortText, StrictInt, rule_error, text

MAX_FINDINGS = 50
YEAR = {"ge": 2000, "le": 2100}


class InspectionResult(StrEnum):
    qualified = "qualified"  # 合格
    basically_qualified = "basically_qualified"  # 基本合格
    unqualified = "unqualified"  # 不合格


class FindingCategory(StrEnum):
    licence = "licence"  # 证照与资质
    pricing = "pricing"  # 收费与价格公示
    service = "service"  # 服务规范
    safety = "safety"  # 安全生产
    environment = "environment"  # 环境保护
    records = "records"  # 档案与信息报送
    other = "other"


class PenaltyKind(StrEnum):
    warning = "warning"  # 警告
    fine = "fine"  # 罚款
    confiscation = "confiscation"  # 没收违法所得
    suspension = "suspension"  # 责令停业整顿
    licence_revocation = "licence_revocation"  # 吊销许可证


# kinds that take money: the others have no amount
MONETARY = frozenset({PenaltyKind.fine, PenaltyKind.confiscation})


class CreditList(StrEnum):
    red = "red"  # 红名单
    black = "black"  # 黑名单


class Finding(SQLModel):
    model_config = ConfigDict(extra="forbid")

    category: FindingCategory
    text: text(500)


class InspectionCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    institution_id: uuid.UUID
    year: StrictInt = Field(**YEAR)  # the year inspected (often inspected early the next year)
    inspected_on: Day
    result: InspectionResult
    findings: list[Finding] = Field(default_factory=list, max_length=MAX_FINDINGS)

    @model_validator(mode="after")
    def _rules(self):
        if self.inspected_on > today_in_china():
            raise rule_error("inspected_on", "not_future", "the day must not be in the future")
        if self.inspected_on.year not in (self.year, self.year + 1):  # a year is inspected in it or early the next
            raise rule_error("inspected_on", "inspection_year", "an inspection of a year is made in it or the next year")
        if self.result != InspectionResult.qualified and not self.findings:
            raise rule_error("findings", "findings_required", "an inspection not fully qualified names its findings")
        return self


class Inspection(SQLModel, table=True):
    __tablename__ = "credit_inspections"
    # one annual inspection per institution and year
    __table_args__ = (UniqueConstraint("institution_id", "year", name="uq_credit_inspections_year"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    year: int = Field(index=True)
    inspected_on: date
    result: str = Field(max_length=20)
    findings: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=255)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InspectionPublic(SQLModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    year: int
    inspected_on: date
    result: InspectionResult
    findings: list[Finding]
    recorded_at: ChinaTime


class PenaltyCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    institution_id: uuid.UUID
    decided_on: Day
    decision_no: text(64)  # 行政处罚决定书文号
    kind: PenaltyKind
    amount_fen: StrictInt = Field(default=0, ge=0, le=10_000_000_000)
    reason: text(500)

    @model_validator(mode="after")
    def _rules(self):
        if self.decided_on > today_in_china():
            raise rule_error("decided_on", "not_future", "the day must not be in the future")
        if (self.kind in MONETARY) != (self.amount_fen > 0):
            raise rule_error("amount_fen", "penalty_amount", "a fine or confiscation has an amount, other kinds none")
        return self


class Penalty(SQLModel, table=True):
    __tablename__ = "credit_penalties"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    decided_on: date = Field(index=True)
    decision_no: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=20)
    amount_fen: int = Field(default=0, sa_type=BigInteger)
    reason: str = Field(max_length=500)
    recorded_by: str = Field(max_length=255)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PenaltyPublic(SQLModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    decided_on: date
    decision_no: str
    kind: PenaltyKind
    amount_fen: int
    reason: str
    recorded_at: ChinaTime


class InspectionsPublic(SQLModel):
    data: list[InspectionPublic]


class PenaltiesPublic(SQLModel):
    data: list[PenaltyPublic]


class CreditScore(SQLModel, table=True):
    """An institution's evaluation of a year: its score, each rule's points with the facts they come from, and
    its list. `facts_digest` is of the facts and the rules' version: an evaluation finding the same changes nothing."""
    __tablename__ = "credit_scores"

    institution_id: uuid.UUID = Field(foreign_key="institutions.id", primary_key=True)
    year: int = Field(primary_key=True)
    score: float
    breakdown: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rules_version: str = Field(max_length=20)
    facts_digest: str = Field(max_length=64)
    listing: str | None = Field(default=None, max_length=8)
    # why it is on its list (or left it): [{"code", "text"}]
    listing_reasons: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    listing_manual: bool = False  # set by an admin with a reason, kept until the facts change
    listed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reason(SQLModel):
    code: str
    text: str


class RulePoints(SQLModel):
    """One rule's share of a score: its points and the facts it counted."""
    rule: str
    name: str
    points: float
    facts: dict


class CreditScorePublic(SQLModel):
    institution_id: uuid.UUID
    institution_name: str
    year: int
    score: float
    breakdown: list[RulePoints]
    rules_version: str
    listing: CreditList | None
    listing_reasons: list[Reason]
    listing_manual: bool
    listed_at: ChinaTime | None
    evaluated_at: ChinaTime


class CreditScoresPublic(SQLModel):
    year: int
    data: list[CreditScorePublic]


class EvaluationRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")

    year: StrictInt = Field(**YEAR)

    @model_validator(mode="after")
    def _past(self):
        if self.year > today_in_china().year:  # a year to come has no facts: every institution would look spotless
            raise rule_error("year", "not_future", "the year must not be in the future")
        return self


class EvaluationPublic(SQLModel):
    year: int
    rules_version: str
    evaluated: int  # institutions evaluated
    changed: int  # scores whose facts changed (or new)
    list_changes: int


class ListChange(SQLModel):
    """An admin puts an institution on a list or takes it off (`listing` null), always saying why."""
    model_config = ConfigDict(extra="forbid")

    listing: CreditList | None
    reason: ShortText


class ListedInstitution(SQLModel):
    """One entry of a published list: public facts of the institution only."""
    institution_id: uuid.UUID
    name: str
    credit_code: str
    region_code: str
    score: float
    reasons: list[Reason]
    listed_at: ChinaTime | None


class CreditListsPublic(SQLModel):
    year: int
    red: list[ListedInstitution]
    black: list[ListedInstitution]


class OwnCreditScore(SQLModel):
    """A registrar's institution's evaluation of a year; `score` is null until the province has evaluated it."""
    year: int
    score: CreditScorePublic | None
