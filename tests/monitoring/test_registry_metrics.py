"""What a tenant's /metrics tells its Prometheus: outbox age, audit-chain verdict, backup time, tenant info."""
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from factories import create_institution
from registry.app import create_app


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(found: dict, name: str, **labels):
    return found.get((name, tuple(sorted(labels.items()))))


def test_outbox_oldest_pending_age(client, mint, session):
    assert value(scrape(client), "fsp_outbox_oldest_pending_age_seconds") == 0
    create_institution(client, mint("provincial-admin"))
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    session.execute(text("UPDATE outbox_events SET at = :at"), {"at": hour_ago})
    session.commit()

    found = scrape(client)
    assert value(found, "fsp_outbox_pending_events") == 1
    assert 3590 < value(found, "fsp_outbox_oldest_pending_age_seconds") < 3700

    session.execute(text("UPDATE outbox_events SET shipped_at = :at"), {"at": datetime.now(UTC)})
    session.commit()
    found = scrape(client)
    assert value(found, "fsp_outbox_pending_events") == 0
    assert value(found, "fsp_outbox_oldest_pending_age_seconds") == 0


def test_audit_verification_is_reported(client, mint, session):
    admin, auditor = mint("provincial-admin"), mint("auditor")
    for _ in range(3):
        create_institution(client, admin)
    assert client.get("/api/v1/audit/verify", headers=auditor).json()["ok"] is True
    found = scrape(client)
    assert value(found, "fsp_audit_chain_ok") == 1
    assert value(found, "fsp_audit_chain_checked_entries") == 3
    assert abs(value(found, "fsp_audit_chain_verified_timestamp_seconds") - time.time()) < 60

    session.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"))
    session.commit()
    assert client.get("/api/v1/audit/verify", headers=auditor).json()["ok"] is False
    assert value(scrape(client), "fsp_audit_chain_ok") == 0


def poll(client, name: str, wanted: float) -> None:
    deadline = time.monotonic() + 30
    while value(scrape(client), name) != wanted:
        assert time.monotonic() < deadline, f"{name} never became {wanted}"
        time.sleep(0.05)


def test_scrapes_verify_the_chain_in_the_background(app, client, mint, session, monkeypatch):
    create_institution(client, mint("provincial-admin"))
    # never verified: no series at all, so "not checked yet" cannot read as "broken"
    assert list(app.state.ctx.metrics.audit_chain.collect()) == []
    poll(client, "fsp_audit_chain_ok", 1)

    session.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
    session.commit()
    monkeypatch.setattr("registry.metrics.AUDIT_VERIFY_EVERY_SECONDS", 0.0)  # every scrape finds the verdict old
    poll(client, "fsp_audit_chain_ok", 0)


def test_tenant_info_and_newest_backup(client, settings):
    found = scrape(client)
    assert value(found, "fsp_tenant_info", tenant="beijing", code="110000", role="province") == 1
    assert value(found, "fsp_backup_last_success_timestamp_seconds") == 0  # none yet

    settings.backup_dir.mkdir()
    (settings.backup_dir / "beijing-20260101T000000Z.fspbackup").write_bytes(b"x")
    (settings.backup_dir / "beijing-20260301T000000Z.fspbackup").write_bytes(b"x")
    (settings.backup_dir / "beijing-20270101T000000Z.fspbackup.partial").write_bytes(b"")  # still being written
    (settings.backup_dir / "beijing-20270101T000000Z.sqlite3").write_bytes(b"x")  # a bare database copy, without keys
    found = scrape(client)
    assert value(found, "fsp_backup_last_success_timestamp_seconds") == datetime(2026, 3, 1, tzinfo=UTC).timestamp()


def test_last_restore_drill_time_and_outcome(client, settings):
    found = scrape(client)
    assert value(found, "fsp_backup_drill_last_timestamp_seconds") == 0  # never drilled
    assert value(found, "fsp_backup_drill_ok") is None  # no verdict before the first drill

    settings.backup_dir.mkdir()
    (settings.backup_dir / "drill.json").write_text('{"at": "2026-11-30T08:00:00+00:00", "outcome": "failed"}')
    found = scrape(client)
    assert value(found, "fsp_backup_drill_last_timestamp_seconds") == datetime(2026, 11, 30, 8, tzinfo=UTC).timestamp()
    assert value(found, "fsp_backup_drill_ok") == 0

    (settings.backup_dir / "drill.json").write_text('{"at": "2026-11-30T09:00:00+00:00", "outcome": "ok"}')
    assert value(scrape(client), "fsp_backup_drill_ok") == 1


def test_every_series_name_is_exposed_once(settings, tmp_path):
    """The registry does not collect at registration (that would query the database at every app start), so no
    registration refuses a name twice: this exposition, with every collector yielding, is the check instead."""
    baseline, drift = tmp_path / "baseline.json", tmp_path / "drift.json"
    baseline.write_text(json.dumps({"checked_at": "2026-11-30T08:00:00+00:00", "counts": {"pass": 3},
                                    "compliant": True}))
    drift.write_text(json.dumps({"checked_at": "2026-11-30T08:00:00+00:00", "tenants": {"beijing": {"realm": 1}}}))
    settings.backup_dir.mkdir()
    (settings.backup_dir / "drill.json").write_text('{"at": "2026-11-30T08:00:00+00:00", "outcome": "ok"}')
    app = create_app(settings.model_copy(update={"baseline_file": baseline, "drift_file": drift}))
    with TestClient(app) as client:
        headers = {"Authorization": "Bearer " + app.state.ctx.issuer.mint("tester", ["provincial-admin", "auditor"])}
        create_institution(client, headers)
        assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
        exposition = client.get("/metrics").text
    app.state.ctx.engine.dispose()

    declared = re.findall(r"^# TYPE (\S+) ", exposition, flags=re.MULTILINE)
    assert {"fsp_outbox_pending_events", "fsp_baseline_compliant", "fsp_drift_items", "fsp_backup_drill_ok",
            "fsp_audit_chain_ok", "fsp_http_requests_total"} <= set(declared)
    assert [name for name, n in Counter(declared).items() if n > 1] == []
