"""Runs every check once, joins the findings into the catalog's controls, and keeps the last result per tenant
where the tenant's state lives (`baseline.json`, `settings.baseline_file`), which the tenant's /metrics exports for the ministry."""
import json
from datetime import UTC, datetime
from typing import Any

from infra.ensure.files import write_atomic
from provisioning_cli.baseline import checks_data, checks_realm, checks_service
from provisioning_cli.baseline.controls import CONTROLS
from provisioning_cli.baseline.findings import ControlResult, Finding, Status
from provisioning_cli.baseline.subject import Subject
from registry.security.algorithms import protections

CHECKS = {**checks_realm.CHECKS, **checks_data.CHECKS, **checks_service.CHECKS}


def run_checks(subject: Subject) -> list[ControlResult]:
    """Every control of the catalog with the findings of its checks (each check run once)."""
    wanted = dict.fromkeys(name for control in CONTROLS for name in control.checks)
    try:
        findings = {name: _run(name, subject) for name in wanted}
    finally:
        subject.close()
    return [ControlResult(control, tuple(findings[name] for name in control.checks)) for control in CONTROLS]


def _run(name: str, subject: Subject) -> Finding:
    try:
        return CHECKS[name](subject)
    except Exception as err:  # a check that cannot look is a failure to show, never a pass
        return Finding(name, Status.failed, f"检查无法完成：{type(err).__name__}: {str(err)[:300]}", "—",
                       "排除上述错误后重新检查")


def report(subject: Subject, results: list[ControlResult], *, at: datetime | None = None) -> dict[str, Any]:
    """The result as machines and the ministry read it."""
    spec = subject.spec
    counts = {status.value: sum(r.status is status for r in results) for status in Status}
    return {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "environment": subject.environment,
            "checked_at": (at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "compliant": not any(r.blocking for r in results),
            "failed_mandatory": [r.control.id for r in results if r.blocking],
            "counts": counts, "controls": [r.as_dict() for r in results], "algorithms": protections()}


def record(subject: Subject, data: dict[str, Any]) -> None:
    """The tenant's last baseline result: its time, verdict and counts (no evidence), beside its state."""
    path = subject.paths.baseline
    summary = {key: data[key] for key in ("tenant", "checked_at", "compliant", "failed_mandatory", "counts")}
    write_atomic(path, json.dumps(summary, ensure_ascii=False, indent=2).encode(), mode=0o644)
