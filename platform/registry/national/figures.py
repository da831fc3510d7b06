"""The national figures the ministry's portal shows: per province, counts only (never a case), from the national
tables with SQL aggregates. One function, so the later roll-up statistics can take its place."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, and_, case, func
from sqlmodel import Session, col, select

from registry.db_types import china_days
from registry.exchange.models import ExchangeCursor
from registry.national.models import NationalCase, NationalCertificate, NationalCremation


@dataclass
class ProvinceFigures:
    province_slug: str
    province_code: str
    deaths_this_year: int = 0
    deaths_last_year: int = 0
    cremations_this_year: int = 0
    certificates_this_year: int = 0


@dataclass
class NationalFigures:
    year: int
    provinces: list[ProvinceFigures] = field(default_factory=list)

    @property
    def total(self) -> ProvinceFigures:
        return ProvinceFigures("", "", *(sum(getattr(p, name) for p in self.provinces) for name in (
            "deaths_this_year", "deaths_last_year", "cremations_this_year", "certificates_this_year")))


def _in_year(column, year: int):
    return and_(*china_days(column, date(year, 1, 1), date(year, 12, 31)))


def _counted(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def national_figures(session: Session, *, today: date) -> NationalFigures:
    """Deaths registered (by the day of death, China time) this year and last, cremations and first certificates
    (a reissue replaces one, it is not another) this year, for every province that has shipped to the ministry."""
    year = today.year
    figures = {slug: ProvinceFigures(slug, code) for slug, code in session.exec(
        select(ExchangeCursor.province_slug, ExchangeCursor.province_code).order_by(col(ExchangeCursor.province_code)))}
    deaths = session.exec(select(NationalCase.province_slug, _counted(_in_year(col(NationalCase.death_at), year)),
                                 _counted(_in_year(col(NationalCase.death_at), year - 1)))
                          .group_by(col(NationalCase.province_slug)))
    for slug, this_year, last_year in deaths:
        if slug in figures:
            figures[slug].deaths_this_year, figures[slug].deaths_last_year = this_year, last_year
    cremations = session.exec(select(NationalCremation.province_slug, func.count())
                              .where(_in_year(col(NationalCremation.started_at), year))
                              .group_by(col(NationalCremation.province_slug)))
    for slug, count in cremations:
        if slug in figures:
            figures[slug].cremations_this_year = count
    certificates = session.exec(select(NationalCertificate.province_slug, func.count())
                                .where(_in_year(col(NationalCertificate.issued_at), year),
                                       col(NationalCertificate.replaces_id).is_(None))
                                .group_by(col(NationalCertificate.province_slug)))
    for slug, count in certificates:
        if slug in figures:
            figures[slug].certificates_this_year = count
    return NationalFigures(year, list(figures.values()))
