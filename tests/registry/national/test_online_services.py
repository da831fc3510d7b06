"""The ministry's records and counts of online services, from the events the provinces' online domains emit:
each event kind against a hand count, replays counting nothing, status changes and corrections moving counts
exactly, the online-services KPI by hand, and the audited read API with its export."""
import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from assertions import last_audit
from national_events import CODES, institution_event
from registry.app import create_app
from registry.config import Role
from registry.exchange import service as exchange
from registry.exchange.models import Batch
from registry.national import kpis, online_figures, online_services, projection
from registry.national.kpis import Kpi, Status
from registry.national.online_models import NationalOnlineCount, NationalOnlineItem

HALL_HOME, CEMETERY, QUIET, SUSPENDED = (uuid.UUID(int=n) for n in (7, 8, 9, 10))
OCT, NOV = "2026-10-{:02d}T10:00:00+08:00", "2026-11-{:02d}T10:00:00+08:00"


@pytest.fixture
def ministry(settings):
    app = create_app(settings.model_copy(update={"role": Role.ministry, "tenant_code": "100000",
                                                 "tenant_slug": "ministry"}))
    yield app
    app.state.ctx.engine.dispose()


def _batch(province: str, first: int, events: list[tuple[str, str, dict]]) -> Batch:
    """(event type, when, payload) each, numbered from `first`."""
    return Batch.model_validate({
        "province": province, "province_code": CODES[province], "first_seq": first,
        "last_seq": first + len(events) - 1,
        "events": [{"seq": first + i, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{province}/{first + i}")),
                    "at": at, "event_type": kind, "aggregate_type": kind.split(".")[0],
                    "aggregate_id": next(str(v) for k, v in payload.items() if k.endswith("id")), "payload": payload}
                   for i, (kind, at, payload) in enumerate(events)]})


def _receive(app, *batches: Batch) -> None:
    with Session(app.state.ctx.engine) as session:
        for sent in batches:
            exchange.receive_batch(session, sent, journal=app.state.ctx.journal)


# payloads as the domains emit them (registry.approvals.service.event_payload, registry.reservations.service.event,
# registry.complaints.service._event, registry.memorials.service), and rating.submitted as the ratings contract says
def approval(approval_id, status, late=None, kind="transport"):
    payload = {"id": str(approval_id), "number": "110000-SP-2026-000001", "kind": kind, "status": status,
               "region_code": "110105", "to_region": "370102", "facility_type": None, "change_kind": None,
               "planned_on": "2026-10-20", "submitted_at": OCT.format(1), "due_on": "2026-10-09"}
    return payload if late is None else {**payload, "late": late}


def booking(booking_id, status, institution=HALL_HOME, kind="farewell_hall", **extra):
    return {"booking_id": str(booking_id), "institution_id": str(institution), "resource_id": str(uuid.UUID(int=99)),
            "resource_kind": kind, "status": status, "starts_at": "2026-10-20T09:00:00+08:00", **extra}


def complaint(complaint_id, status, institution=CEMETERY, **extra):
    return {"complaint_id": str(complaint_id), "number": "TS20261001ABCDEF12", "institution_id": str(institution),
            "category": "pricing", "status": status, "due_on": "2026-10-22", "received_on": "2026-10-01", **extra}


def rating(rating_id, score, institution=HALL_HOME):
    return {"id": str(rating_id), "institution_id": str(institution), "service_kind": "farewell",
            "score": score, "rated_at": OCT.format(12)}


def _ids(*names: str) -> dict[str, uuid.UUID]:
    return {name: uuid.uuid4() for name in names}


def _fleet(app) -> dict[str, uuid.UUID]:
    i, sent = _fleet_batch()
    _receive(app, sent)
    return i


def _fleet_batch() -> tuple[dict[str, uuid.UUID], Batch]:
    """Beijing in October 2026: approvals A (transport: submitted, accepted late, reviewed, approved), B (refused),
    C (facility: rejected); bookings H1 (held, confirmed), H2 (held, cancelled), H3 (held, expired) at the funeral
    home, one at the suspended institution; complaints K1 (received, assigned, answered, closed upheld) and K2
    (received, escalated) against the cemetery; a memorial created and removed with one message (flowers); two
    ratings (4 and 5)."""
    i = _ids("A", "B", "C", "H1", "H2", "H3", "H4", "K1", "K2", "M", "msg", "R1", "R2")
    return i, _batch("beijing", 1, [
        *[("institution.created", OCT.format(1), institution_event(inst, status=status))
          for inst, status in ((HALL_HOME, "active"), (CEMETERY, "active"), (QUIET, "active"),
                               (SUSPENDED, "suspended"))],
        ("approval.submitted", OCT.format(1), approval(i["A"], "submitted")),
        ("approval.accepted", OCT.format(12), approval(i["A"], "accepted", late=True)),
        ("approval.reviewed", OCT.format(13), approval(i["A"], "reviewed", late=False)),
        ("approval.approved", OCT.format(14), approval(i["A"], "approved", late=False)),
        ("approval.submitted", OCT.format(2), approval(i["B"], "submitted")),
        ("approval.refused", OCT.format(3), approval(i["B"], "refused", late=False)),
        ("approval.submitted", OCT.format(2), approval(i["C"], "submitted", kind="facility")),
        ("approval.rejected", OCT.format(20), approval(i["C"], "rejected", late=False, kind="facility")),
        ("booking.held", OCT.format(5), booking(i["H1"], "held", hold_until=OCT.format(6))),
        ("booking.confirmed", OCT.format(5), booking(i["H1"], "confirmed")),
        ("booking.held", OCT.format(6), booking(i["H2"], "held", kind="vehicle")),
        ("booking.cancelled", OCT.format(7), booking(i["H2"], "cancelled", kind="vehicle", cancelled_by="owner")),
        ("booking.held", OCT.format(8), booking(i["H3"], "held")),
        ("booking.expired", OCT.format(9), booking(i["H3"], "expired")),
        ("booking.held", OCT.format(8), booking(i["H4"], "held", institution=SUSPENDED)),
        ("complaint.received", OCT.format(1), complaint(i["K1"], "received")),
        ("complaint.assigned", OCT.format(2), complaint(i["K1"], "assigned")),
        ("complaint.answered", OCT.format(8), complaint(i["K1"], "answered", answered_on_time=True)),
        ("complaint.closed", OCT.format(9), complaint(i["K1"], "closed", answered_on_time=True, upheld=True)),
        ("complaint.received", OCT.format(1), complaint(i["K2"], "received")),
        ("complaint.escalated", OCT.format(23), complaint(i["K2"], "escalated")),
        ("memorial.created", OCT.format(3), {"memorial_id": str(i["M"]), "visibility": "public",
                                             "relation": "child"}),
        ("memorial_message.posted", OCT.format(4), {"memorial_id": str(i["M"]), "message_id": str(i["msg"]),
                                                    "status": "published", "offering": "flowers"}),
        ("memorial.removed", OCT.format(30), {"memorial_id": str(i["M"])}),
        ("rating.submitted", OCT.format(12), rating(i["R1"], 4)),
        ("rating.submitted", OCT.format(13), rating(i["R2"], 5)),
    ])


EXPECTED_OCTOBER = {
    "province": "beijing", "month": 10, "approvals_submitted": 3, "approvals_approved": 1, "approvals_rejected": 1,
    "approvals_refused": 1, "approvals_overdue": 1, "bookings_made": 4, "bookings_confirmed": 1,
    "bookings_cancelled": 1, "bookings_expired": 1, "complaints_received": 2, "complaints_answered": 1,
    "complaints_upheld": 1, "complaints_escalated": 1, "ratings": 2, "rating_score_sum": 9, "rating_average": 4.5,
    "memorials_created": 1, "memorials_removed": 1, "memorial_messages": 1, "payments_paid": 0, "payments_paid_fen": 0,
    "payments_refunded": 0, "payments_refunded_fen": 0}


def _figures(app, **asked) -> list[dict]:
    with Session(app.state.ctx.engine) as session:
        return online_figures.figures(session, year=2026, **asked)


def _counters(app) -> dict[tuple, int]:
    with Session(app.state.ctx.engine) as session:
        return {(c.province_slug, c.institution, c.year, c.month, c.service, c.measure, c.kind): c.count
                for c in session.exec(select(NationalOnlineCount)) if c.count}


def test_each_event_kind_is_counted_as_by_hand(ministry):
    _fleet(ministry)
    assert _figures(ministry) == [EXPECTED_OCTOBER]
    counters = _counters(ministry)
    # per institution and kind: the funeral home's farewell hall and vehicle bookings, the cemetery's complaints
    assert counters[("beijing", HALL_HOME.hex, 2026, 10, "booking", "made", "farewell_hall")] == 2
    assert counters[("beijing", HALL_HOME.hex, 2026, 10, "booking", "cancelled", "vehicle")] == 1
    assert counters[("beijing", CEMETERY.hex, 2026, 10, "complaint", "upheld", "pricing")] == 1
    assert counters[("beijing", "", 2026, 10, "approval", "submitted", "transport")] == 2
    assert counters[("beijing", "", 2026, 10, "approval", "rejected", "facility")] == 1
    assert _figures(ministry, institution_id=CEMETERY)[0]["complaints_received"] == 2
    assert _figures(ministry, institution_id=CEMETERY)[0]["bookings_made"] == 0


def test_a_rating_submitted_is_counted_with_its_score(ministry):
    rated = uuid.uuid4()
    _receive(ministry, _batch("beijing", 1, [("rating.submitted", NOV.format(2), rating(rated, 3, CEMETERY))]))
    assert _counters(ministry) == {("beijing", CEMETERY.hex, 2026, 10, "rating", "rated", "farewell"): 1,
                                   ("beijing", CEMETERY.hex, 2026, 10, "rating", "score", "farewell"): 3}


def payment(order_id, status, amount_fen, institution=HALL_HOME):
    """As registry.payments.service.payload emits it: ids, amount and status, never who paid."""
    return {"order_id": str(order_id), "booking_id": str(uuid.UUID(int=98)), "institution_id": str(institution),
            "amount_fen": amount_fen, "status": status}


def _payments_batch(first: int = 1) -> Batch:
    """P1 (80000 fen) paid in October and refunded in November; P2 (50000) paid in October; P3 (30000) created and
    closed unpaid; P4 (12000) paid at the cemetery in November."""
    i = _ids("P1", "P2", "P3", "P4")
    return _batch("beijing", first, [
        ("payment.created", OCT.format(3), payment(i["P1"], "created", 80000)),
        ("payment.paid", OCT.format(3), payment(i["P1"], "paid", 80000)),
        ("payment.created", OCT.format(4), payment(i["P2"], "created", 50000)),
        ("payment.paid", OCT.format(5), payment(i["P2"], "paid", 50000)),
        ("payment.created", OCT.format(6), payment(i["P3"], "created", 30000)),
        ("payment.closed", OCT.format(7), payment(i["P3"], "closed", 30000)),
        ("payment.refund_requested", NOV.format(2), {**payment(i["P1"], "refund_requested", 80000), "reason": "booking_cancelled"}),
        ("payment.refunded", NOV.format(3), payment(i["P1"], "refunded", 80000)),
        ("payment.created", NOV.format(4), payment(i["P4"], "created", 12000, CEMETERY)),
        ("payment.paid", NOV.format(4), payment(i["P4"], "paid", 12000, CEMETERY)),
    ])


def test_payments_paid_and_refunded_are_counted_with_their_amounts_once(ministry):
    sent = _payments_batch()
    _receive(ministry, sent)
    with Session(ministry.state.ctx.engine) as session:  # the batch applied again counts nothing
        projection.apply_events(session, province="beijing", province_code="110000", events=sent.events,
                                now=datetime.now(UTC))
        session.commit()

    october, november = ({k: row[k] for k in row if k.startswith("payments")} for row in _figures(ministry))
    counters = _counters(ministry)

    # by hand: October paid P1 + P2 = 80000 + 50000; November paid P4, refunded P1 (paid stays in October)
    assert october == {"payments_paid": 2, "payments_paid_fen": 130000, "payments_refunded": 0,
                       "payments_refunded_fen": 0}
    assert november == {"payments_paid": 1, "payments_paid_fen": 12000, "payments_refunded": 1,
                        "payments_refunded_fen": 80000}
    assert counters[("beijing", HALL_HOME.hex, 2026, 11, "payment", "refunded_fen", "")] == 80000
    assert counters[("beijing", CEMETERY.hex, 2026, 11, "payment", "paid_fen", "")] == 12000
    assert _figures(ministry, institution_id=CEMETERY)[0]["payments_paid"] == 1
    with Session(ministry.state.ctx.engine) as session:
        online_services.rebuild(session)
        session.commit()
    assert _counters(ministry) == counters  # the running counts are exactly a recount of the records
    with Session(ministry.state.ctx.engine) as session:  # the records hold amounts and statuses, no payer
        order = session.exec(select(NationalOnlineItem).where(NationalOnlineItem.service == "payment",
                                                              NationalOnlineItem.amount_fen == 80000)).one()
        assert (order.status, order.kind) == ("refunded", "")


def test_a_replayed_batch_changes_nothing(ministry):
    _, sent = _fleet_batch()
    _receive(ministry, sent)
    before = _counters(ministry)
    with Session(ministry.state.ctx.engine) as session:
        items = {(i.service, i.item_id): (i.status, i.last_seq) for i in session.exec(select(NationalOnlineItem))}
    _receive(ministry, sent)  # the province resends it: the exchange stores nothing again
    with Session(ministry.state.ctx.engine) as session:  # and the projection applied to it again counts nothing
        projection.apply_events(session, province="beijing", province_code="110000", events=sent.events,
                                now=datetime.now(UTC))
        session.commit()
        assert {(i.service, i.item_id): (i.status, i.last_seq) for i in session.exec(select(NationalOnlineItem))} \
            == items
    assert _counters(ministry) == before


def test_status_changes_and_corrections_move_counts_exactly(ministry):
    i = _fleet(ministry)
    _receive(ministry, _batch("beijing", 31, [
        # the confirmed booking is cancelled in November: confirmed stays in October, cancelled counts in November
        ("booking.cancelled", NOV.format(2), booking(i["H1"], "cancelled", cancelled_by="institution")),
        # the escalated complaint is answered by the bureau and closed, not upheld
        ("complaint.answered", NOV.format(3), complaint(i["K2"], "answered", answered_on_time=False)),
        ("complaint.closed", NOV.format(4), complaint(i["K2"], "closed", answered_on_time=False, upheld=False)),
        # a rating corrected from 4 to 2: still one rating, the score sum moves by -2
        ("rating.submitted", OCT.format(12), rating(i["R1"], 2)),
    ]))
    october, november = _figures(ministry)
    assert october == {**EXPECTED_OCTOBER, "rating_score_sum": 7, "rating_average": 3.5}
    assert november == {**dict.fromkeys(EXPECTED_OCTOBER, 0), "province": "beijing", "month": 11,
                        "bookings_cancelled": 1, "complaints_answered": 1, "rating_average": None}
    running = _counters(ministry)
    with Session(ministry.state.ctx.engine) as session:
        online_services.rebuild(session)
        session.commit()
    assert _counters(ministry) == running  # the running counts are exactly a recount of the records


def test_an_event_of_another_shape_is_kept_but_not_counted(ministry):
    _receive(ministry, _batch("beijing", 1, [("booking.held", OCT.format(1), {"booking_id": str(uuid.uuid4())})]))
    with Session(ministry.state.ctx.engine) as session:
        assert session.exec(select(func.count()).select_from(NationalOnlineItem)).one() == 0
    assert _counters(ministry) == {}


def test_online_services_kpi_counts_active_institutions_citizens_booked_online(ministry):
    """Hand count: 3 active institutions in Beijing (the suspended one is not counted even though booked); only
    the funeral home took online bookings (complaints and ratings are not business done online): 1 / 3."""
    _fleet(ministry)
    with Session(ministry.state.ctx.engine) as session:
        rows = {(r.province, r.kpi): r for r in kpis.kpis(session, year=2026, now=datetime.now(UTC))}
    served = rows[("beijing", Kpi.online_services)]
    assert (served.numerator, served.denominator, served.value, served.target) == (1, 3, 0.3333, 0.9)
    assert served.status == Status.behind
    _receive(ministry, _batch("beijing", 31, [
        ("booking.held", NOV.format(1), booking(uuid.uuid4(), "held", institution=CEMETERY, kind="niche")),
        ("booking.held", NOV.format(1), booking(uuid.uuid4(), "held", institution=QUIET))]))
    with Session(ministry.state.ctx.engine) as session:
        served = {(r.province, r.kpi): r for r in kpis.kpis(session, year=2026, now=datetime.now(UTC))}[
            ("beijing", Kpi.online_services)]
    assert (served.numerator, served.value, served.status) == (3, 1.0, Status.passed)


def test_the_ministry_reads_and_exports_online_services_audited(ministry):
    _fleet(ministry)
    operator = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("op-1", ["ministry-operator"])}
    registrar = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("r", ["registrar"])}
    with TestClient(ministry) as client:
        answer = client.get("/api/v1/national/online-services", params={"year": 2026, "province": "beijing"},
                            headers=operator)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [EXPECTED_OCTOBER]
        with Session(ministry.state.ctx.engine) as s:
            entry = last_audit(s)
            assert (entry.action, entry.actor) == ("national.online_services", "op-1")
        assert client.get("/api/v1/national/online-services", params={"year": 2026},
                          headers=registrar).status_code == 403
        exported = client.get("/api/v1/national/online-services/export", params={"year": 2026}, headers=operator)
        workbook = client.get("/api/v1/national/online-services/export", params={"year": 2026, "format": "xlsx"},
                              headers=operator)
    assert exported.status_code == 200 and "online-services-2026.csv" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["省份", "省份名称", "月份", "审批申请数", "准予许可数", "不予许可数", "不予受理数", "超期办理数",
                       "预约数", "预约确认数", "预约取消数", "预约超时未确认数", "投诉受理数", "投诉答复数", "投诉属实数",
                       "投诉超期上报数", "评价数", "评分合计", "平均评分", "网上纪念馆新建数", "网上纪念馆撤销数",
                       "纪念留言数", "缴费笔数", "缴费金额（分）", "退费笔数", "退费金额（分）"]
    assert rows[1] == ["beijing", "北京市", "10", "3", "1", "1", "1", "1", "4", "1", "1", "1", "2", "1", "1", "1",
                       "2", "9", "4.5", "1", "1", "1", "0", "0", "0", "0"]
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1][:4] == ["beijing", "北京市", 10, 3]
