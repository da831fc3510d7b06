"""Statistics for decisions, kept up to date at ingest: every national record adds itself to counters.

A record counts in buckets (metric, province, county, year, month and the metric's dimensions). When an event
creates or changes a record, the record's old buckets lose one and its new ones gain one, in the transaction that
stores the batch: a correction moves a death from one bucket to another, a replay changes nothing (the record is
not touched). Tables by province, prefecture or county, month or year, are then sums over a few thousand counter
rows instead of scans of millions of records.
"""
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Index, Integer, String, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select

from registry.national import loaded
from registry.national.models import (
    NationalAshesDestination,
    NationalCase,
    NationalCertificate,
    NationalCremation,
    NationalInterment,
)

CHINA = ZoneInfo("Asia/Shanghai")

# age at death, in bands as the civil-affairs statistical reports group them
AGE_BANDS = ((0, "0-14"), (15, "15-44"), (45, "45-59"), (60, "60-69"), (70, "70-79"), (80, "80-89"), (90, "90+"))
# 节地生态安葬: destinations that take no grave (sea and river scattering, degradable containers buried deep)
ECO_DESTINATIONS = frozenset({"sea_scattering", "river_scattering", "degradable_burial"})


class NationalCount(SQLModel, table=True):
    """One counter: how many records of `metric` fall in a county and month, in all (`dimension` '') or with one
    value of one dimension (`sex` = '2'). One dimension at a time, never their product: the counters stay as few
    as the counties, months and values, however many records there are."""

    __tablename__ = "national_counts"
    # how every table is asked for: a metric, a year, one dimension (then a province, a month)
    # half of each page free: adding to a counter then stays on its page and rewrites neither index (migration 0036)
    __table_args__ = (Index("ix_national_counts_question", "metric", "year", "dimension", "province_slug", "month"),
                      {"postgresql_with": {"fillfactor": 50}})

    metric: str = Field(primary_key=True, max_length=24)
    province_slug: str = Field(primary_key=True, max_length=32)
    region_code: str = Field(primary_key=True, max_length=6)  # the county (the deceased's household region)
    year: int = Field(primary_key=True)
    month: int = Field(primary_key=True)
    dimension: str = Field(primary_key=True, default="", max_length=16)  # sex, age_band, category, place or ''
    value: str = Field(primary_key=True, default="", max_length=32)
    count: int = Field(default=0)


class Bucket(NamedTuple):
    """A counter's key (a tuple: it hashes and sorts cheaply, thousands of times a batch)."""

    metric: str
    province_slug: str
    region_code: str
    year: int
    month: int
    dimension: str = ""
    value: str = ""


def _counted(metric: str, province: str, region: str, moment: datetime, *, total: bool = True,
             **values: str) -> list[Bucket]:
    """A record's buckets: its county and month in all (unless `total` is False), and once per dimension. Plain
    tuples, equal to the Buckets of the same fields (built thousands of times a batch)."""
    year, month = china_month(moment)
    found = [(metric, province, region, year, month, "", "")] if total else []
    found += [(metric, province, region, year, month, dimension, value) for dimension, value in values.items()]
    return found


# China has kept UTC+8 all year since 1992 (before, summers of 1986-1991 were UTC+9): from then on a fixed offset
_FIXED_SINCE = datetime(1992, 1, 1, tzinfo=UTC)
_CHINA_OFFSET = timedelta(hours=8)


def china_wall(moment: datetime) -> datetime:
    """`moment` as a wall clock in China (naive); the offset arithmetic is the zone's, without its lookups."""
    offset = moment.utcoffset()
    if offset is None or moment < _FIXED_SINCE:
        return moment.astimezone(CHINA).replace(tzinfo=None)
    return moment.replace(tzinfo=None) + (_CHINA_OFFSET - offset)


def china_month(moment: datetime) -> tuple[int, int]:
    local = china_wall(moment)
    return local.year, local.month


def age_band(birth: date, death: date) -> str:
    age = death.year - birth.year - ((death.month, death.day) < (birth.month, birth.day))
    band = AGE_BANDS[0][1]
    for lowest, name in AGE_BANDS:
        if age >= lowest:
            band = name
    return band


def _region_of_case(session: Session, province: str, case_id) -> str:
    case = loaded.find(session, NationalCase, (province, case_id))
    return case.household_region if case is not None else ""


def _active(province: str, institution_id, moment: datetime) -> list[Bucket]:
    """The institution worked on the platform that month (the online-institutions KPI counts those with any)."""
    year, month = china_month(moment)
    return [("institution_activity", province, "", year, month, "institution", institution_id.hex)]


def _deaths(session: Session, case: NationalCase) -> list[Bucket]:
    found = _counted("deaths", case.province_slug, case.household_region, case.death_at, sex=case.sex,
                     age_band=age_band(case.birth_date, china_wall(case.death_at).date()),
                     category=case.cause_category, place=case.death_place_type)
    if case.archive_ref is not None or case.archived_at is not None:
        # archived (closed and filed, or imported from the archives by the backfill): by the year of death
        found += _counted("archived", case.province_slug, case.household_region, case.death_at)
    if case.archive_ref is not None:
        return found  # imported from paper archives: history, not business done on the platform
    return found + _active(case.province_slug, case.institution_id, case.death_at)


def _cremations(session: Session, cremation: NationalCremation) -> list[Bucket]:
    return _counted("cremations", cremation.province_slug,
                    _region_of_case(session, cremation.province_slug, cremation.case_id),
                    cremation.started_at) + _active(cremation.province_slug, cremation.institution_id,
                                                    cremation.started_at)


def _interments(session: Session, interment: NationalInterment) -> list[Bucket]:
    return _active(interment.province_slug, interment.institution_id, interment.interred_at)


def _certificates(session: Session, certificate: NationalCertificate) -> list[Bucket]:
    """Issued (first or reissued) in the month of issue, and cancelled in the month of cancelling: by kind only,
    since a sum of issues and cancellations counts nothing."""
    province = certificate.province_slug
    region = _region_of_case(session, province, certificate.case_id)
    kind = "reissued" if certificate.replaces_id is not None else "issued"
    found = _counted("certificates", province, region, certificate.issued_at, total=False, category=kind)
    if certificate.cancelled_at is not None:
        found += _counted("certificates", province, region, certificate.cancelled_at, total=False,
                          category="cancelled")
    return found


def _destinations(session: Session, destination: NationalAshesDestination) -> list[Bucket]:
    return _counted("ashes_destinations", destination.province_slug,
                    _region_of_case(session, destination.province_slug, destination.case_id),
                    destination.recorded_at, category=destination.destination)


BUCKETS_OF: dict[type[SQLModel], Callable[[Session, SQLModel], list[Bucket]]] = {
    NationalCase: _deaths, NationalCremation: _cremations, NationalCertificate: _certificates,
    NationalAshesDestination: _destinations, NationalInterment: _interments,
}


def buckets(session: Session, record: SQLModel | None) -> list[Bucket]:
    """The buckets a record counts in now (none for a record statistics do not count)."""
    if record is None:
        return []
    counted = BUCKETS_OF.get(record.model if isinstance(record, loaded.Record) else type(record))
    return counted(session, record) if counted is not None else []


_DELTAS = "registry.national.statistics.deltas"


def move(session: Session, before: Iterable[Bucket], after: Iterable[Bucket]) -> None:
    """A record changed: its old buckets lose one, its new ones gain one (the same bucket: nothing to do). The
    changes are summed in the session and written by `write_counts`, once per batch."""
    deltas: dict[Bucket, int] = session.info.setdefault(_DELTAS, {})
    for bucket in before:
        deltas[bucket] = deltas.get(bucket, 0) - 1
    for bucket in after:
        deltas[bucket] = deltas.get(bucket, 0) + 1


def write_counts(session: Session) -> None:
    """The batch's summed changes, in one statement: concurrent batches of different provinces add to the same
    counters without losing each other's counts."""
    deltas = {bucket: delta for bucket, delta in session.info.pop(_DELTAS, {}).items() if delta}
    if not deltas:
        return
    # in a fixed order: two batches touching the same counters lock them in the same order, never in a cycle
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPYed to a staging table, then added in one statement (which orders them)
        connection.exec_driver_sql(_STAGING)
        loaded.copy_rows(connection, "stage_national_counts", _COLUMNS,
                         ((*bucket, delta) for bucket, delta in deltas.items()))
        connection.exec_driver_sql(_ADD_STAGED)
        connection.exec_driver_sql("DELETE FROM stage_national_counts")
        return
    statement = sqlite_insert(NationalCount)
    statement = statement.on_conflict_do_update(
        index_elements=list(Bucket._fields), set_={"count": NationalCount.__table__.c.count + statement.excluded.count})
    session.execute(statement, [{**dict(zip(Bucket._fields, bucket, strict=True)), "count": delta}
                                for bucket, delta in sorted(deltas.items())])


_COLUMNS = (*Bucket._fields, "count")
_STAGING = ("CREATE TEMP TABLE IF NOT EXISTS stage_national_counts ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(_COLUMNS)} FROM national_counts WITH NO DATA")
_ADD_STAGED = (f"INSERT INTO national_counts ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} "
               f"FROM stage_national_counts ORDER BY {', '.join(Bucket._fields)} "
               f"ON CONFLICT ({', '.join(Bucket._fields)}) DO UPDATE SET count = national_counts.count + excluded.count")


def forget(session: Session) -> None:
    """Drop changes not written (the batch failed: its transaction rolls back)."""
    session.info.pop(_DELTAS, None)


# --- reading -------------------------------------------------------------------------------------------------------

LEVELS = {"province": 2, "prefecture": 4, "county": 6}


def table(session: Session, *, metric: str, year: int, month: int | None = None, province: str | None = None,
          level: str = "province", by: str | None = None) -> list[dict]:
    """Counts of `metric` in `year` (or one month of it), per area at `level` (province, prefecture, county:
    the region code cut to 2, 4 or 6 digits) and, with `by`, per value of one dimension."""
    c = NationalCount.__table__.c
    digits = LEVELS[level]
    area = func.substr(c.region_code, 1, digits) if digits < 6 else c.region_code
    group = [c.province_slug, area]
    columns = [c.province_slug, area.label("area")]
    if by == "month":
        columns.append(c.month.cast(String).label("value"))
        group.append(c.month)
    elif by is not None:
        columns.append(c.value.label("value"))
        group.append(c.value)
    else:
        columns.append(literal("").label("value"))
    query = sa_select(*columns, func.sum(c.count).cast(Integer).label("count")).where(
        c.metric == metric, c.year == year, c.dimension == ("" if by in (None, "month") else by))
    if month is not None:
        query = query.where(c.month == month)
    if province is not None:
        query = query.where(c.province_slug == province)
    rows = session.execute(query.group_by(*group).having(func.sum(c.count) != 0).order_by(*group)).all()
    return [{"province": r.province_slug, "area": r.area, "value": r.value, "count": r.count} for r in rows]


def totals(session: Session, *, metric: str, year: int, month: int | None = None,
           province: str | None = None, by: str | None = None) -> dict[str, int]:
    """One number per value of `by` (or {"": total}) for the nation or one province."""
    found: dict[str, int] = {}
    for row in table(session, metric=metric, year=year, month=month, province=province, by=by):
        found[str(row["value"])] = found.get(str(row["value"]), 0) + row["count"]
    return found


def rebuild(session: Session) -> int:
    """Recount every counter from the national records (after a migration, or to check the running counts);
    returns how many counters there are. Reads the records in a stream: memory grows with the buckets only."""
    counts: dict[Bucket, int] = {}
    for model in BUCKETS_OF:
        for record in session.exec(select(model).execution_options(yield_per=5000)):
            for bucket in buckets(session, record):
                counts[bucket] = counts.get(bucket, 0) + 1
    session.execute(NationalCount.__table__.delete())
    rows = [{**dict(zip(Bucket._fields, bucket, strict=True)), "count": count} for bucket, count in counts.items()]
    for start in range(0, len(rows), 5000):
        session.execute(NationalCount.__table__.insert(), rows[start:start + 5000])
    return len(rows)
