"""Ratings count and mean score per institution type on /metrics, read at scrape time (one grouped query)."""
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from registry.institutions.models import Institution, InstitutionType
from registry.ratings.models import Rating


class RatingsCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        try:
            with Session(self._engine) as session:
                figures = by_institution_type(session)
        except Exception:  # a down database (or one not migrated yet) shows as missing series; /readyz says why
            return
        count = GaugeMetricFamily("fsp_ratings", "Satisfaction ratings given, by institution type", labels=["institution_type"])
        mean = GaugeMetricFamily("fsp_ratings_mean_score", "Mean satisfaction score (1-5), by institution type",
                                 labels=["institution_type"])
        for kind, (total, average) in figures.items():
            count.add_metric([kind.value], total)
            if total:
                mean.add_metric([kind.value], average)
        yield count
        yield mean


def by_institution_type(session: Session) -> dict[InstitutionType, tuple[int, float]]:
    """Per institution type (a bounded label): (ratings, mean score); types without ratings count 0."""
    rows = session.exec(select(Institution.type, func.count(), func.avg(Rating.score))
                        .join(Institution, col(Institution.id) == col(Rating.institution_id))
                        .group_by(Institution.type)).all()
    figures = {kind: (0, 0.0) for kind in InstitutionType}
    figures.update({InstitutionType(kind): (total, float(mean or 0)) for kind, total, mean in rows})
    return figures
