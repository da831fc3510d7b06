"""Prometheus metrics of one app, on its own registry so many apps can share a process."""
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from registry.approvals.metrics import ApprovalsCollector
from registry.audit import service as audit
from registry.audit.anchor import AuditAnchor
from registry.audit.models import ChainVerdict
from registry.audit.refusals import UnauthenticatedRefusals
from registry.background import BackgroundMetrics
from registry.complaints.metrics import ComplaintsCollector
from registry.config import Settings
from registry.equipment.metrics import EquipmentMetrics
from registry.journal import Journal
from registry.outbox import service as outbox
from registry.outbox.models import OutboxEvent
from registry.ratings.metrics import RatingsCollector

log = logging.getLogger(__name__)

# *_created series double the exposition size and no rule uses them
disable_created_metrics()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# a scrape starts a background re-verification of the audit chain when the last one is older than this
AUDIT_VERIFY_EVERY_SECONDS = 300.0
# between full walks, the periodic check hashes only the entries written since the last intact verdict
AUDIT_FULL_VERIFY_EVERY_SECONDS = 86400.0
# backups are named `<slug>-<UTC stamp>.<ext>`; a file still being written carries another suffix
BACKUP_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_BACKUP_NAME = re.compile(r"^[a-z][a-z0-9-]*-(\d{8}T\d{6}Z)\.fspbackup$")


# `fsp backup drill` writes the last drill's time and outcome here, in the backup directory
DRILL_FILE = "drill.json"


def newest_backup(directory: Path) -> Path | None:
    """The newest complete backup in `directory` (by the time in its name), or None."""
    try:
        found = {match.group(1): entry for entry in directory.iterdir() if (match := _BACKUP_NAME.match(entry.name))}
    except OSError:
        return None
    return found[max(found)] if found else None


def newest_backup_time(directory: Path) -> datetime | None:
    """When the newest complete backup in `directory` was taken (from its name), or None."""
    newest = newest_backup(directory)
    stamp = _BACKUP_NAME.match(newest.name).group(1) if newest else None
    return datetime.strptime(stamp, BACKUP_STAMP_FORMAT).replace(tzinfo=UTC) if stamp else None


def last_drill(directory: Path) -> dict | None:
    """The last restore drill's record (`at`, `outcome`, ...), or None before the first."""
    try:
        record = json.loads((directory / DRILL_FILE).read_text())
        return {**record, "at": datetime.fromisoformat(record["at"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


class _OutboxCollector:
    """Reads the pending outbox at scrape time, so the numbers are never stale."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        pending = GaugeMetricFamily("fsp_outbox_pending_events", "Outbox events not yet shipped to the ministry")
        age = GaugeMetricFamily("fsp_outbox_oldest_pending_age_seconds",
                                "Age of the oldest outbox event not yet shipped (0 when none is pending)")
        try:
            with Session(self._engine) as session:
                count = outbox.pending_count(session)
                oldest = session.exec(select(func.min(col(OutboxEvent.at)))
                                      .where(col(OutboxEvent.shipped_at).is_(None))).one()
        except Exception:  # a down database shows as missing series, and /readyz says why
            return
        pending.add_metric([], count)
        age.add_metric([], max(0.0, time.time() - oldest.timestamp()) if oldest else 0.0)
        yield pending
        yield age


class _BackupCollector:
    """The newest backup's time and the last restore drill, read from the backup directory at scrape time."""

    def __init__(self, directory: Path):
        self._directory = directory

    def collect(self):
        gauge = GaugeMetricFamily("fsp_backup_last_success_timestamp_seconds",
                                  "Unix time of the newest complete backup (0: none yet)")
        newest = newest_backup_time(self._directory)
        gauge.add_metric([], newest.timestamp() if newest else 0.0)
        yield gauge
        drill = last_drill(self._directory)
        yield GaugeMetricFamily("fsp_backup_drill_last_timestamp_seconds",
                                "Unix time of the last restore drill of the newest backup (0: none yet)",
                                value=drill["at"].timestamp() if drill else 0.0)
        if drill is not None:  # no verdict before the first drill: "never drilled" is the stale alert's
            yield GaugeMetricFamily("fsp_backup_drill_ok", "1 if the last restore drill restored and verified the backup",
                                    value=1 if drill["outcome"] == "ok" else 0)


class _BaselineCollector:
    """The last security-baseline check of the tenant, read from its record at scrape time (none before the first)."""

    def __init__(self, path: Path):
        self._path = path

    def collect(self):
        try:
            record = json.loads(self._path.read_text())
            at = datetime.fromisoformat(record["checked_at"]).timestamp()
            counts = {str(status): int(n) for status, n in record["counts"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return
        controls = GaugeMetricFamily("fsp_baseline_controls", "Controls of the last `fsp baseline check` by status "
                                     "(pass, fail, not_applicable, manual)", labels=["status"])
        for status, n in sorted(counts.items()):
            controls.add_metric([status], n)
        yield controls
        yield GaugeMetricFamily("fsp_baseline_compliant", "1 if no mandatory control failed at the last baseline check",
                                value=1 if record.get("compliant") else 0)
        yield GaugeMetricFamily("fsp_baseline_last_check_timestamp_seconds", "Unix time of the last baseline check",
                                value=at)


class _DriftCollector:
    """What the control plane's last fleet-wide drift run found, per tenant and resource (the ministry's only)."""

    def __init__(self, path: Path):
        self._path = path

    def collect(self):
        try:
            record = json.loads(self._path.read_text())
            at = datetime.fromisoformat(record["checked_at"]).timestamp()
            counts = {(str(tenant), str(resource)): int(n)
                      for tenant, resources in record["tenants"].items() for resource, n in resources.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return
        items = GaugeMetricFamily("fsp_drift_items", "Differences between a tenant's live state and its declaration "
                                  "found by the last fleet-wide `fsp drift`, by tenant and resource",
                                  labels=["province", "resource"])
        for (tenant, resource), n in sorted(counts.items()):
            items.add_metric([tenant, resource], n)
        yield items
        yield GaugeMetricFamily("fsp_drift_last_run_timestamp_seconds", "Unix time of the last fleet-wide drift run",
                                value=at)


class AuditChainStatus:
    """The verdict of the last audit-chain verification, however it was run (API call or periodic).

    No series until a first verification has run: "not checked yet" must not read as "broken"."""

    def __init__(self, engine: Engine, *, anchor: AuditAnchor, before: Callable[[], None] = lambda: None):
        self._engine, self._anchor = engine, anchor
        self._before = before  # what must reach the chain before it is verified (counted refusals)
        self._verdict: ChainVerdict | None = None
        self._at = 0.0
        self._full_at = 0.0
        self._running = threading.Lock()

    def record(self, verdict: ChainVerdict) -> None:
        """Publish a verdict; every verification reports here."""
        now = time.time()
        self._verdict, self._at = verdict, now
        if verdict.full:
            self._full_at = now

    def collect(self):
        verdict, at = self._verdict, self._at
        if verdict is None:
            return
        yield GaugeMetricFamily("fsp_audit_chain_ok", "1 if the last audit-chain verification found the chain intact",
                                value=1 if verdict.ok else 0)
        yield GaugeMetricFamily("fsp_audit_chain_verified_timestamp_seconds",
                                "Unix time of the last audit-chain verification", value=at)
        yield GaugeMetricFamily("fsp_audit_chain_checked_entries", "Entries the last verification hashed",
                                value=verdict.checked)
        yield GaugeMetricFamily("fsp_audit_chain_verified_through_seq",
                                "Last entry of the chain found intact (0 when broken or empty)",
                                value=verdict.through_seq)
        if self._full_at:
            yield GaugeMetricFamily("fsp_audit_chain_full_verified_timestamp_seconds",
                                    "Unix time of the last verification that walked the whole chain",
                                    value=self._full_at)

    def refresh_if_due(self) -> threading.Thread | None:
        """Re-verify in the background when the last verdict is old; a scrape never waits for the walk."""
        if time.time() - self._at < AUDIT_VERIFY_EVERY_SECONDS or not self._running.acquire(blocking=False):
            return None
        worker = threading.Thread(target=self._verify, name="audit-chain-verify", daemon=True)
        worker.start()
        return worker

    def _verify(self) -> None:
        try:
            # a full walk daily (and after a broken verdict); otherwise only what was written since the last one
            due_full = time.time() - self._full_at >= AUDIT_FULL_VERIFY_EVERY_SECONDS
            since = None if due_full else self._verdict
            self._before()
            with Session(self._engine) as session:
                self.record(audit.verify(session, anchor=self._anchor, since=since))
        except Exception:  # the database may be gone (shutdown); the next scrape tries again
            log.warning("periodic audit-chain verification failed", exc_info=True)
        finally:
            self._running.release()


class AppMetrics:
    def __init__(self, settings: Settings, *, version: str, journal: Journal):
        engine = journal.engine
        # no describing by collecting at registration: the collectors read the database, and every app start would
        # query it once per collector (names stay unique: tests/monitoring/test_registry_metrics.py checks)
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter("fsp_http_requests_total", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("fsp_http_request_duration_seconds", "HTTP request latency by route template",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cases_registered = Counter("fsp_cases_registered_total", "Cases declared", registry=self.registry)
        self.cases_imported = Counter("fsp_cases_imported_total", "Archived cases imported (历史数据补录)",
                                      registry=self.registry)
        self.declaration_batch = Histogram(
            "fsp_case_declaration_batch_size", "Case declarations written together in one transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=self.registry)
        self.cremations = Counter("fsp_cremations_total", "Cremations recorded", registry=self.registry)
        self.certificates_issued = Counter("fsp_certificates_issued_total", "Cremation certificates issued",
                                           registry=self.registry)
        self.certificates_cancelled = Counter("fsp_certificates_cancelled_total", "Cremation certificates cancelled",
                                              registry=self.registry)
        self.certificate_verifications = Counter(
            "fsp_certificate_verifications_total",
            "Public checks of cremation certificates, by outcome (not_found: unknown number or wrong check code; "
            "forged: a QR signature that is not the tenant's; limited: refused after too many wrong guesses)",
            ["outcome"], registry=self.registry)
        self.status_lookups = Counter(
            "fsp_status_lookups_total",
            "Public query-code lookups (办件查询), by outcome (not_found: unknown or wrong code; malformed: not a "
            "query code; limited: refused after too many misses)", ["outcome"], registry=self.registry)
        self.complaints = Counter("fsp_complaint_events_total", "Complaint steps (received, assigned, answered, "
                                  "escalated, closed)", ["event"], registry=self.registry)
        self.registry.register(ComplaintsCollector(engine))
        self.memorial_messages = Counter("fsp_memorial_messages_total", "Memorial messages by what became of them "
                                         "(published, pending review, rejected)", ["status"], registry=self.registry)
        # the sweeps `fsp serve` runs on a schedule (registry.sweeps): what each swept, and when it last ran
        self.swept = Counter("fsp_sweep_items_total", "Items swept by the scheduled sweeps (expired booking holds, "
                             "complaints escalated past their time limit)", ["sweep"], registry=self.registry)
        self.sweep_last = Gauge("fsp_sweep_last_run_timestamp_seconds", "Unix time the sweep last ran to the end",
                                ["sweep"], registry=self.registry)
        self.sweep_failures = Counter("fsp_sweep_failures_total", "Scheduled sweeps that failed (tried again next "
                                      "round)", ["sweep"], registry=self.registry)
        # every background work `fsp serve` runs for the tenant (registry.background): last success, failures
        self.background = BackgroundMetrics(self.registry)
        info = Gauge("fsp_build_info", "Build and tenant", ["version", "tenant"], registry=self.registry)
        info.labels(version=version, tenant=settings.tenant_slug).set(1)
        tenant = Gauge("fsp_tenant_info", "The tenant this app serves", ["tenant", "code", "role"],
                       registry=self.registry)
        tenant.labels(tenant=settings.tenant_slug, code=settings.tenant_code, role=settings.role.value).set(1)
        if settings.backup_dir is not None:
            self.registry.register(_BackupCollector(settings.backup_dir))
        if settings.baseline_file is not None:
            self.registry.register(_BaselineCollector(settings.baseline_file))
        if settings.drift_file is not None:
            self.registry.register(_DriftCollector(settings.drift_file))
        self.registry.register(_OutboxCollector(engine))
        self.registry.register(ApprovalsCollector(engine))
        self.equipment = EquipmentMetrics(self.registry, engine)
        self.registry.register(RatingsCollector(engine))
        # 401s are audited by count (anyone can send them); the counts reach the chain before it is verified
        self.unauthenticated = UnauthenticatedRefusals(journal, self.registry)
        self.audit_chain = AuditChainStatus(engine, anchor=journal.anchor, before=self.unauthenticated.flush)
        self.registry.register(self.audit_chain)

    def exposition(self) -> bytes:
        """The text a scrape gets; starts a periodic audit verification when one is due."""
        self.audit_chain.refresh_if_due()
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times requests by the matched route template, never the raw path."""

    def __init__(self, app, metrics: AppMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=template, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=template).observe(time.perf_counter() - started)
