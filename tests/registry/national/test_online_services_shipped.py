"""The events a province's online domains really write, on the wire as its shipper sends them, are what the
ministry's projection of online services reads: each one kept and counted, and none carrying personal data."""
import uuid
from datetime import UTC, datetime

from sqlmodel import select

from factories import booking_payload, create_institution, create_resource, credit_code
from registry.approvals import service as approvals
from registry.approvals.models import ApprovalCreate
from registry.complaints import service as complaints
from registry.complaints.models import ComplaintCreate
from registry.exchange import outbound
from registry.exchange.models import Batch
from registry.national import online_figures, projection
from registry.national.online_models import NationalOnlineItem
from registry.security.auth import Principal
from registry.security.permissions import Permission

CITIZEN = Principal(subject="citizen-0002", roles=frozenset({"citizen"}), permissions=frozenset({Permission.services_apply}))
COMPLAINT = "殡仪馆收费不透明，经办人李四态度差"


def test_the_online_domains_events_are_projected_and_carry_no_personal_data(app, client, session, mint):
    ctx = app.state.ctx
    admin = mint("provincial-admin", subject="admin-1")
    home = create_institution(client, admin, type="funeral_home")
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]), subject="registrar-fh")
    hall = create_resource(client, registrar, home["id"], name="思源厅", capacity=2)
    booked = client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]),
                         headers=mint("citizen", subject="citizen-0001")).json()
    assert client.post(f"/api/v1/bookings/{booked['id']}/confirm", headers=registrar).status_code == 200
    complaints.submit(session, ctx=ctx, principal=CITIZEN, data=ComplaintCreate(
        institution_id=uuid.UUID(home["id"]), category="pricing", text=COMPLAINT, contact="13900001111"))
    approvals.submit(session, ctx=ctx, principal=CITIZEN, data=ApprovalCreate.model_validate({
        "kind": "facility", "facility": {"organisation_name": "朝阳区福寿园", "credit_code": credit_code(),
                                         "region_code": "110105", "facility_type": "cemetery",
                                         "change_kind": "build", "description": "新建公益性公墓"}}))

    body, _ = outbound.batch_body(outbound.unshipped(ctx.engine, limit=1000), province="beijing",
                                  province_code="110000", max_bytes=10_000_000)
    wire = body.decode()
    for personal in ("张三丰", "13812345678", "13900001111", COMPLAINT, "李四", "citizen-000"):
        assert personal not in wire
    sent = Batch.model_validate_json(body)
    session.rollback()
    projection.apply_events(session, province="beijing", province_code="110000", events=sent.events,
                            now=datetime.now(UTC))
    session.commit()

    kept = {(item.service, item.status) for item in session.exec(select(NationalOnlineItem))}
    assert kept == {("booking", "confirmed"), ("complaint", "received"), ("approval", "submitted")}
    year = datetime.now(UTC).year
    [row] = online_figures.figures(session, year=year)
    assert (row["bookings_made"], row["bookings_confirmed"], row["complaints_received"],
            row["approvals_submitted"]) == (1, 1, 1, 1)
    booking = session.exec(select(NationalOnlineItem).where(NationalOnlineItem.service == "booking")).one()
    assert (booking.institution_id, booking.kind) == (uuid.UUID(home["id"]), hall["kind"])
