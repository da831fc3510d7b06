"""The national figures the ministry's portal shows: per province, counts only (never a case), from the statistics
counters kept at ingest (registry.national.statistics)."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.exchange.models import ExchangeCursor
from registry.national import statistics
from registry.national.models import PersonMatch


@dataclass
class ProvinceFigures:
    province_slug: str
    province_code: str
    deaths_this_year: int = 0
    deaths_last_year: int = 0
    cremations_this_year: int = 0
    certificates_this_year: int = 0

    @property
    def cremation_rate(self) -> float | None:
        """Cremations / deaths this year (火化率); None without deaths."""
        return self.cremations_this_year / self.deaths_this_year if self.deaths_this_year else None


@dataclass
class NationalFigures:
    year: int
    provinces: list[ProvinceFigures] = field(default_factory=list)

    @property
    def total(self) -> ProvinceFigures:
        return ProvinceFigures("", "", *(sum(getattr(p, name) for p in self.provinces) for name in (
            "deaths_this_year", "deaths_last_year", "cremations_this_year", "certificates_this_year")))


def national_figures(session: Session, *, today: date) -> NationalFigures:
    """Deaths registered (by the day of death, China time) this year and last, cremations and first certificates
    (a reissue replaces one, it is not another) this year, for every province that has shipped to the ministry:
    sums of the statistics counters kept at ingest, never a scan of the records."""
    year = today.year
    figures = {slug: ProvinceFigures(slug, code) for slug, code in session.exec(
        select(ExchangeCursor.province_slug, ExchangeCursor.province_code).order_by(col(ExchangeCursor.province_code)))}
    wanted = (("deaths_this_year", "deaths", year, None), ("deaths_last_year", "deaths", year - 1, None),
              ("cremations_this_year", "cremations", year, None),
              ("certificates_this_year", "certificates", year, "category"))
    for name, metric, in_year, by in wanted:
        for row in statistics.table(session, metric=metric, year=in_year, by=by):
            if row["province"] in figures and (by is None or row["value"] == "issued"):
                setattr(figures[row["province"]], name, getattr(figures[row["province"]], name) + row["count"])
    return NationalFigures(year, list(figures.values()))


@dataclass
class MatchCounts:
    """One province's cross-province pairs: how many name it, how many it checked, how many were the same person."""
    pairs: int = 0
    checked: int = 0
    same_person: int = 0


def match_counts(session: Session) -> dict[str, MatchCounts]:
    """Per province, from the pairs and the findings the provinces sent back (two grouped reads of the pairs)."""
    found: dict[str, MatchCounts] = {}
    pairs = PersonMatch.__table__.c
    for side in ("a", "b"):
        finding = pairs[f"finding_{side}"]
        for province, total, checked, same in session.connection().execute(
                select(pairs[f"province_{side}"], func.count(), func.count(finding),
                       func.count().filter(finding == "same_person")).group_by(pairs[f"province_{side}"])):
            counts = found.setdefault(province, MatchCounts())
            counts.pairs, counts.checked, counts.same_person = (counts.pairs + total, counts.checked + checked,
                                                                counts.same_person + same)
    return found
