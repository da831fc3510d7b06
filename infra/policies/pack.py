"""The checks as CrossGuard policies, every one MANDATORY: a violation stops `pulumi up`."""
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.checks import CLAUSES, RESOURCE_CHECKS, STACK_CHECKS, ResourceCheck

PACK_NAME = "fsp-grade3-kubernetes"
STANDARD, GRADE = "GB/T 22239-2019", "grade 3"


def framework(name: str) -> PolicyComplianceFramework:
    """The clause of GB/T 22239-2019 grade 3 a policy enforces."""
    return PolicyComplianceFramework(name=STANDARD, version=GRADE, reference=CLAUSES[name],
                                     specification="Information security technology - Baseline for classified "
                                                   "protection of cybersecurity (网络安全等级保护基本要求)")


def _resource_policy(name: str, description: str, check: ResourceCheck) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY, framework=framework(name))


def _stack_policy(name: str, description: str, check) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message in check((r.resource_type, r.props) for r in args.resources):
            report_violation(message, None)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY, framework=framework(name))


def policies() -> list:
    """Every policy of the pack."""
    return [*(_resource_policy(n, d, c) for n, (d, c) in RESOURCE_CHECKS.items()),
            *(_stack_policy(n, d, c) for n, (d, c) in STACK_CHECKS.items())]
