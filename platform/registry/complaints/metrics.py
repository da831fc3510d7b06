"""The complaints waiting past their time limit, read at scrape time so the gauge is never stale."""
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine
from sqlmodel import Session

from registry.complaints import queries


class ComplaintsCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        try:
            with Session(self._engine) as session:
                overdue = queries.overdue_count(session)
        except Exception:  # a down database shows as a missing series, and /readyz says why
            return
        yield GaugeMetricFamily("fsp_complaints_overdue", "Complaints not answered within their time limit",
                                value=overdue)
