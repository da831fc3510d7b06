"""What a check finds and what a control concludes from its checks."""
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "not_applicable"
    manual = "manual"


@dataclass(frozen=True)
class Finding:
    """One check's verdict: what was seen (`evidence`), where it was read, and what to do when it is not met."""

    check: str
    status: Status
    evidence: str
    where: str
    remedy: str = ""

    def as_dict(self) -> dict:
        return {**asdict(self), "status": self.status.value}


@dataclass(frozen=True)
class Control:
    """A requirement of a standard, cited by clause, in our own words; met when its checks are."""

    id: str
    standard: str
    clause: str
    title: str  # Chinese, for the assessors' report
    requirement: str  # Chinese, our wording of what the clause asks of this system
    checks: tuple[str, ...]
    mandatory: bool = True
    # what an assessor looks at by hand, beside (or instead of) the automated checks
    assessor: str = ""


@dataclass(frozen=True)
class ControlResult:
    control: Control
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def status(self) -> Status:
        """Failed if any check failed; else manual if one needs a person; else passed if one passed."""
        seen = {finding.status for finding in self.findings}
        if not seen and self.control.assessor:
            return Status.manual
        for status in (Status.failed, Status.manual, Status.passed):
            if status in seen:
                return status
        return Status.not_applicable

    @property
    def blocking(self) -> bool:
        return self.control.mandatory and self.status is Status.failed

    def as_dict(self) -> dict:
        c = self.control
        return {"id": c.id, "standard": c.standard, "clause": c.clause, "title": c.title,
                "requirement": c.requirement, "mandatory": c.mandatory, "status": self.status.value,
                "assessor": c.assessor, "findings": [finding.as_dict() for finding in self.findings]}
