"""The checks as CrossGuard policies, every one MANDATORY: a violation stops `pulumi up`."""
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies.checks import RESOURCE_CHECKS, STACK_CHECKS, ResourceCheck

PACK_NAME = "fsp-grade3-kubernetes"


def _resource_policy(name: str, description: str, check: ResourceCheck) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


def _stack_policy(name: str, description: str, check) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message in check((r.resource_type, r.props) for r in args.resources):
            report_violation(message, None)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY)


def policies() -> list:
    """Every policy of the pack."""
    return [*(_resource_policy(n, d, c) for n, (d, c) in RESOURCE_CHECKS.items()),
            *(_stack_policy(n, d, c) for n, (d, c) in STACK_CHECKS.items())]
