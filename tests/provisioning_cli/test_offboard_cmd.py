"""`fsp offboard` against beijing and the ministry served for real on loopback: everything shipped, a final drilled
backup, a signed and sealed archive that opens and verifies (and a tampered one that does not), the ministry's
epoch closed, a tombstone; then beijing provisioned again exchanges in a new epoch the ministry accepts."""
import json
import shutil
import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from factories import create_institution, declare_case
from registry.app import create_app
from registry.exchange.models import ExchangeCursor, NationalEvent


def _declare(local, n: int) -> None:
    """n cases declared in beijing's database through its API (an institution first)."""
    app = create_app(local.settings(local.catalog.resolve("beijing")))
    issuer = app.state.ctx.issuer
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
        home = create_institution(client, admin)
        registrar = {"Authorization": "Bearer " + issuer.mint("registrar", ["registrar"],
                                                              institution_id=uuid.UUID(home["id"]))}
        for _ in range(n):
            declare_case(client, registrar, home["id"])
    app.state.ctx.engine.dispose()


def _at_ministry(local) -> tuple[list[tuple], dict[int, int]]:
    """(beijing's cursors as (epoch, acknowledged, closed), {epoch: events held})."""
    with local.engine(local.catalog.ministry) as engine, Session(engine) as session:
        cursors = [(c.epoch, c.acknowledged_seq, c.closed_at is not None) for c in session.exec(
            select(ExchangeCursor).where(ExchangeCursor.province_slug == "beijing").order_by(col(ExchangeCursor.epoch)))]
        held = dict(session.exec(select(NationalEvent.epoch, func.count()).where(
            NationalEvent.province_slug == "beijing").group_by(NationalEvent.epoch)).all())
    return cursors, held


def test_offboarding_archives_deregisters_and_purges_then_reprovisioning_exchanges_in_a_new_epoch(
        fsp, fsp_json, province, tenant, backup_key, tmp_path, db_backend, request):
    _declare(tenant, 2)  # an institution and two cases wait in the outbox: offboarding must ship them
    archive = tmp_path / "archives" / "beijing.fsparchive"

    done = fsp_json("offboard", "beijing", "--archive", str(archive), "--yes")

    assert [step["step"] for step in done["steps"]] == ["suspend", "ship", "backup", "archive", "deregister", "purge",
                                                         "tombstone"]
    assert done["lifecycle"]["state"] == "offboarded"
    cursors, held = _at_ministry(tenant)
    assert cursors == [(1, held[1], True)] and held[1] >= 3  # everything shipped, the epoch closed
    beijing = tenant.home.tenant("beijing")
    assert json.loads(beijing.state.read_text())["lifecycle"]["state"] == "offboarded"
    assert sorted(path.name for path in beijing.root.iterdir()) == ["state.json"]  # a tombstone, nothing else
    status = next(row for row in fsp_json("status") if row["tenant"] == "beijing")
    assert status["provisioned"] is False
    assert "offboarded" in fsp("suspend", "beijing", ok=False).stderr
    assert "offboarded already" in fsp("offboard", "beijing", "--archive", str(archive), "--yes", ok=False).stderr

    # the archive opens with the backup key and checks out whole; signed by the key the tombstone recorded
    verified = fsp_json("offboard", "verify-archive", str(archive))
    assert verified["outcome"] == "ok" and verified["tenant"] == "beijing"
    assert verified["signed_by_recorded_key"] is True
    assert verified["audit_entries"] == verified["audit_head"]["seq"] > 0
    assert verified["rows"] > 0
    tampered = tmp_path / "archives" / "tampered.fsparchive"
    shutil.copyfile(archive, tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    assert "damaged or was altered" in fsp("offboard", "verify-archive", str(tampered), ok=False).stderr

    # provisioned again: a new database, a new incarnation, a new epoch the ministry accepts beside the old one
    postgres = request.getfixturevalue("pg_admin_url") if db_backend == "postgresql" else None
    fsp("up", "beijing", *(("--postgres", postgres) if postgres else ()))
    assert next(r for r in fsp_json("status") if r["tenant"] == "beijing")["lifecycle"]["state"] == "active"
    _declare(tenant, 1)
    shipped = json.loads(fsp("exchange", "ship", "beijing", "--json").stdout)[0]

    assert shipped["problem"] is None and shipped["pending"] == 0
    again, held_again = _at_ministry(tenant)
    assert again == [(1, held[1], True), (2, held_again[2], False)]
    assert held_again == {1: held[1], 2: shipped["shipped"]}  # the first epoch's events kept as evidence


def test_offboarding_stops_while_the_ministry_cannot_take_the_outbox_and_a_rerun_continues(
        fsp, fsp_json, tenant, backup_key, tmp_path, home):
    from served import serving_locally

    _declare(tenant, 1)
    archive = tmp_path / "beijing.fsparchive"
    # nothing serves the ministry: the outbox cannot be shipped, so nothing is deleted
    stopped = fsp("offboard", "beijing", "--archive", str(archive), "--yes", "--ministry-url", "http://127.0.0.1:9",
                  ok=False)

    assert "cannot ship beijing's last events" in stopped.stderr
    assert next(r for r in fsp_json("status") if r["tenant"] == "beijing")["lifecycle"]["state"] == "offboarding"
    assert not archive.exists()
    assert "offboarding" in fsp("resume", "beijing", ok=False).stderr
    with serving_locally(home):
        done = fsp_json("offboard", "beijing", "--archive", str(archive), "--yes")
    assert done["lifecycle"]["state"] == "offboarded" and archive.exists()


def test_offboarding_asks_for_an_archive_and_a_confirmation(fsp, tenant):
    assert "--archive FILE" in fsp("offboard", "beijing", "--yes", ok=False).stderr
    assert "--yes" in fsp("offboard", "beijing", "--archive", "x.fsparchive", ok=False).stderr
    assert "the ministry" in fsp("offboard", "ministry", "--archive", "x.fsparchive", "--yes", ok=False).stderr
