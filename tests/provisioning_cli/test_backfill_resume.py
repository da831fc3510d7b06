"""`fsp backfill` killed with SIGKILL mid-run, then run again: the rest is imported and nothing twice (both backends)."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from factories import ARCHIVE_COLUMNS, archive_mapping, archive_row, create_institution
from kc_double.runner import BackgroundServer
from registry.audit import service as audit
from registry.cases.models import Case
from registry.outbox.models import OutboxEvent

ROWS, BAD_EVERY = 6000, 20
FSP = str(Path(sys.executable).with_name("fsp"))


def _cases(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Case))


def _settled(engine) -> int:
    """The number of cases once the batch the killed client had in flight was answered (or not) by the server."""
    seen = -1
    while (now := _cases(engine)) != seen:
        seen = now
        time.sleep(1.0)
    return seen


def test_a_run_killed_mid_file_resumes_where_it_stopped_and_duplicates_nothing(app, tmp_path):
    ctx = app.state.ctx
    admin = {"Authorization": f"Bearer {ctx.issuer.mint('archivist', ['provincial-admin'])}"}
    with TestClient(app) as client:
        institution = create_institution(client, admin, type="crematorium")["id"]
    archive = tmp_path / "archive.csv"
    with archive.open("w", encoding="gb18030", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(ARCHIVE_COLUMNS.values()))
        writer.writeheader()
        writer.writerows(archive_row(n, prefix="KILL", bad_every=BAD_EVERY) for n in range(ROWS))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(archive_mapping(institution), allow_unicode=True), encoding="utf-8")
    report = tmp_path / "report.csv"
    valid = ROWS - ROWS // BAD_EVERY

    with BackgroundServer(app) as url:
        command = [FSP, "backfill", "beijing", str(archive), "--mapping", str(mapping), "--report", str(report),
                   "--batch", "100", "--url", f"{url}/api/v1", "--json", "--home", str(tmp_path / "home")]
        env = {**os.environ, "FSP_TOKEN": ctx.issuer.mint("archivist", ["provincial-admin"], ttl_seconds=3600)}
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while _cases(ctx.engine) < 500 and first.poll() is None:
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.communicate()
        imported = _settled(ctx.engine)
        killed_report = report.read_text(encoding="utf-8-sig").splitlines()
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    assert first.returncode == -signal.SIGKILL and 0 < imported < valid, "the first run was not stopped mid-file"
    assert len(killed_report) > 1  # the header and the rejects of the batches answered before the kill
    summary = json.loads(second.stdout)
    assert (summary["already_present"], summary["created"]) == (imported, valid - imported)
    assert summary["refused"] + summary["unreadable"] == ROWS // BAD_EVERY
    final_report = report.read_text(encoding="utf-8-sig").splitlines()
    assert final_report[:len(killed_report)] == killed_report and len(final_report) == 1 + ROWS // BAD_EVERY
    with Session(ctx.engine) as session:
        assert session.scalar(select(func.count(func.distinct(Case.archive_ref)))) == valid
        assert session.scalar(select(func.count()).select_from(Case)) == valid
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.event_type == "case.imported")) == valid
        assert audit.verify(session, anchor=ctx.journal.anchor).ok
