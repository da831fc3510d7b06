"""Payment orders per status and the last reconciliation's findings on /metrics, counted at scrape time."""
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from registry.payments.models import Difference, OrderStatus, PaymentOrder, Reconciliation


class PaymentsCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        try:
            with Session(self._engine) as session:
                orders = dict(session.exec(select(PaymentOrder.status, func.count()).group_by(PaymentOrder.status)).all())
                last = session.exec(select(Reconciliation).order_by(col(Reconciliation.ran_at).desc()).limit(1)).first()
        except Exception:  # a down database (or one not migrated yet) shows as missing series; /readyz says why
            return
        by_status = GaugeMetricFamily("fsp_payment_orders", "Payment orders of booked services, by status",
                                      labels=["status"])
        for status in OrderStatus:
            by_status.add_metric([status.value], orders.get(status.value, 0))
        yield by_status
        found = GaugeMetricFamily("fsp_payment_reconciliation_orders",
                                  "Orders of the last daily reconciliation with the provider, by what was found",
                                  labels=["kind"])
        for kind in Difference:
            found.add_metric([kind.value], getattr(last, kind.value) if last else 0)
        yield found
        repaired = GaugeMetricFamily("fsp_payment_reconciliation_repaired",
                                     "Orders the last reconciliation found paid at the provider and made paid here")
        repaired.add_metric([], last.repaired if last else 0)
        yield repaired
