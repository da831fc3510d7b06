"""Bookings on /metrics, counted at scrape time so they are never stale: by status and resource kind only
(bounded labels: three kinds, four statuses, never an institution or a booking)."""
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select

from registry.db_types import utcnow
from registry.reservations.models import Booking, BookingStatus, Resource


class BookingsCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        gauge = GaugeMetricFamily("fsp_bookings", "Bookings by status and resource kind (a hold that ran out counts "
                                  "as expired before a sweep marks it)", labels=["status", "kind"])
        status = case(((col(Booking.status) == BookingStatus.held) & (col(Booking.hold_until) <= utcnow()),
                       BookingStatus.expired.value), else_=col(Booking.status))
        try:
            with Session(self._engine) as session:
                rows = session.exec(select(status, Resource.kind, func.count()).join(
                    Resource, col(Resource.id) == col(Booking.resource_id)).group_by(status, Resource.kind)).all()
        except Exception:  # a down database shows as missing series, and /readyz says why
            return
        for state, kind, count in rows:
            gauge.add_metric([state, kind], count)
        yield gauge
