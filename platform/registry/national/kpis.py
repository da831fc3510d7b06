"""Registration completeness and the plan's targets as KPIs per province, from the counters kept at ingest.

Completeness: deaths registered in a year (by the day of death) / expected deaths (population × crude death rate,
registry.national.yearbook). KPIs, each against its target:
- online institutions: active institutions that worked on the platform in the year (registered a death, recorded
  a cremation or a burial there; imported archive records do not count) / active institutions of the province;
- online services: active institutions that citizens booked (or applied to) online in the year / active
  institutions of the province, against the plan's next stage (90 %);
- backfill since 2010: archived cases of the years from 2010 to the year before / expected deaths of those years;
- exchange freshness: how long ago the ministry accepted the province's last batch.
A figure that cannot be computed (no expected figure, no institution, never shipped) is unknown, never guessed.
"""
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry.exchange.models import ExchangeCursor
from registry.national import online_figures, yearbook
from registry.national.models import NationalInstitution
from registry.national.statistics import NationalCount
from registry.outbox.models import OutboxEvent

BACKFILL_FROM = 2010  # the plan: historical records since 2010 entered into the platform
# the plan's stages for institutions doing business online: 60 %, then 90 % once online services are offered
ONLINE_TARGET, ONLINE_NEXT_TARGET = 0.60, 0.90
# "complete" read as 95 % of expected deaths: the yearbook's rates come from a sample survey, not a count
BACKFILL_TARGET = 0.95
FRESHNESS_TARGET_SECONDS = 24 * 3600  # a province ships continuously; a day without an accepted batch is behind


class Status(StrEnum):
    passed = "pass"
    behind = "behind"
    unknown = "unknown"


class Kpi(StrEnum):
    online_institutions = "online_institutions"
    online_services = "online_services"
    backfill = "backfill"
    exchange_freshness = "exchange_freshness"


@dataclass(frozen=True)
class Completeness:
    province: str  # '' for the nation
    province_code: str
    registered: int
    expected: int | None
    source: str | None = None
    provinces_counted: int | None = None  # the nation: how many provinces have an expected figure

    @property
    def ratio(self) -> float | None:
        return round(self.registered / self.expected, 4) if self.expected else None


@dataclass(frozen=True)
class KpiRow:
    province: str
    province_code: str
    kpi: Kpi
    value: float | None  # a share (0..1) or, for freshness, seconds
    target: float
    higher_is_better: bool
    numerator: int | None = None
    denominator: int | None = None
    missing_years: list[int] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.value is None:
            return Status.unknown
        met = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return Status.passed if met else Status.behind

    def as_dict(self) -> dict:
        return {"province": self.province, "province_code": self.province_code, "kpi": self.kpi.value,
                "value": self.value, "target": self.target, "higher_is_better": self.higher_is_better,
                "status": self.status.value, "numerator": self.numerator, "denominator": self.denominator,
                "missing_years": self.missing_years}


def _province_codes(session: Session, expected: dict[str, yearbook.ExpectedDeaths] | None = None,
                    own: tuple[str, str] | None = None) -> dict[str, str]:
    """The provinces that have shipped to the ministry (and those of `expected`): slug → code; in a province
    (`own`: its slug and code, registry.national.own_figures) itself."""
    if own is not None:
        return dict([own])
    codes = {slug: row.province_code for slug, row in (expected or {}).items()}
    codes.update(session.exec(select(ExchangeCursor.province_slug, ExchangeCursor.province_code)).all())
    return codes


def _registered(session: Session, *, metric: str, first: int, last: int) -> dict[tuple[str, int], int]:
    """Counts of `metric` (in all) per province and year, `first` to `last`: sums over the counters."""
    c = NationalCount.__table__.c
    rows = session.execute(sa_select(c.province_slug, c.year, func.sum(c.count)).where(
        c.metric == metric, c.dimension == "", c.year >= first, c.year <= last).group_by(c.province_slug, c.year))
    return {(province, year): int(count) for province, year, count in rows}


def completeness(session: Session, *, year: int, own: tuple[str, str] | None = None,
                 ) -> tuple[list[Completeness], Completeness]:
    """Per province and for the nation: deaths registered in `year` against the yearbook's expected deaths. The
    nation's ratio covers only provinces with an expected figure (it says how many)."""
    expected = yearbook.expected_in(session, year=year)
    codes = _province_codes(session, expected, own)
    registered = {province: count for (province, _), count in
                  _registered(session, metric="deaths", first=year, last=year).items()}
    rows = []
    for province in sorted(set(codes) | (set(registered) if own is None else set()), key=lambda p: (codes.get(p, ""), p)):
        figure = expected.get(province)
        rows.append(Completeness(province, codes.get(province, ""), registered.get(province, 0),
                                 figure.expected_deaths if figure else None, figure.source if figure else None))
    covered = [row for row in rows if row.expected is not None]
    nation = Completeness("", "", sum(row.registered for row in covered),
                          sum(row.expected for row in covered) if covered else None,
                          provinces_counted=len(covered))
    return rows, nation


def _active(session: Session) -> dict[str, set[str]]:
    """Per province: its active institutions (ids as hex)."""
    active: dict[str, set[str]] = {}
    for province, institution_id in session.exec(select(
            NationalInstitution.province_slug, NationalInstitution.institution_id).where(
            col(NationalInstitution.status) == "active")):
        active.setdefault(province, set()).add(institution_id.hex)
    return active


def _online_services(session: Session, active: dict[str, set[str]], *, year: int) -> dict[str, tuple[int, int]]:
    """Per province: (active institutions citizens booked or applied to online in `year`, active institutions)."""
    served = online_figures.institutions_served(session, year=year)
    return {province: (len(ids & served.get(province, set())), len(ids)) for province, ids in active.items()}


def _online(session: Session, active: dict[str, set[str]], *, year: int) -> dict[str, tuple[int, int]]:
    """Per province: (active institutions that worked on the platform in `year`, active institutions)."""
    c = NationalCount.__table__.c
    worked = session.execute(sa_select(c.province_slug, c.value).where(
        c.metric == "institution_activity", c.year == year, c.dimension == "institution").group_by(
        c.province_slug, c.value).having(func.sum(c.count) > 0))
    online: dict[str, int] = {}
    for province, institution in worked:
        if institution in active.get(province, set()):
            online[province] = online.get(province, 0) + 1
    return {province: (online.get(province, 0), len(ids)) for province, ids in active.items()}


def kpis(session: Session, *, year: int, now: datetime, own: tuple[str, str] | None = None) -> list[KpiRow]:
    """The KPIs for `year` (freshness as of `now`) of every province that has shipped, by code; in a province
    (`own`) its own, freshness from when the ministry acknowledged its last shipped event."""
    codes = _province_codes(session, own=own)
    active = _active(session)
    online = _online(session, active, year=year)
    services = _online_services(session, active, year=year)
    archived = _registered(session, metric="archived", first=BACKFILL_FROM, last=year - 1)
    expected = yearbook.expected_between(session, first=BACKFILL_FROM, last=year - 1)
    # a province's newest epoch last: what it shipped most recently is what counts
    shipped = dict(session.exec(select(ExchangeCursor.province_slug, ExchangeCursor.updated_at)
                                .order_by(ExchangeCursor.epoch)).all()) if own is None else {
        own[0]: session.exec(select(func.max(OutboxEvent.shipped_at))).one()}
    rows: list[KpiRow] = []
    for province in sorted(set(codes) | (set(online) if own is None else set()), key=lambda p: (codes.get(p, ""), p)):
        code = codes.get(province, "")
        working, institutions = online.get(province, (0, 0))
        rows.append(KpiRow(province, code, Kpi.online_institutions,
                           round(working / institutions, 4) if institutions else None, ONLINE_TARGET, True,
                           working, institutions))
        serving, _ = services.get(province, (0, 0))
        rows.append(KpiRow(province, code, Kpi.online_services,
                           round(serving / institutions, 4) if institutions else None, ONLINE_NEXT_TARGET, True,
                           serving, institutions))
        years = range(BACKFILL_FROM, year)
        known = [y for y in years if (province, y) in expected]
        done = sum(archived.get((province, y), 0) for y in known)
        due = sum(expected[(province, y)] for y in known)
        rows.append(KpiRow(province, code, Kpi.backfill, round(done / due, 4) if due else None, BACKFILL_TARGET,
                           True, done, due if known else None, [y for y in years if y not in known]))
        last = shipped.get(province)
        age = None if last is None else max(0, round((now - last).total_seconds()))
        rows.append(KpiRow(province, code, Kpi.exchange_freshness, age, FRESHNESS_TARGET_SECONDS, False))
    return rows

