"""Expected deaths per province and year, from the national statistical yearbook, as the ministry loaded them.

Registration completeness (registered deaths / expected deaths) divides by these. The figures come from the tenant
catalog's cited table or a later edition the ministry loads (`fsp national load-yearbook`); a province or year
without a row has no expected figure and its completeness is unknown, never estimated.
"""
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check
from sqlalchemy import Numeric
from sqlmodel import Field, Session, SQLModel, select

from registry.db_types import UTCDateTime, utcnow
from registry.journal import Journal
from registry.national.models import PROVINCE_PATTERN


class ExpectedDeaths(SQLModel, table=True):
    """One province's year: population × crude death rate, with the yearbook table it came from."""

    __tablename__ = "national_expected_deaths"

    province_slug: str = Field(primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    province_code: str = Field(max_length=6)
    population: int
    death_rate_permille: Decimal = Field(sa_type=Numeric(5, 2))
    expected_deaths: int
    source: str = Field(max_length=200)
    loaded_at: datetime = Field(sa_type=UTCDateTime)


class ExpectedFigure(BaseModel):
    """A yearbook row as loaded: the province by slug and code, population in persons, the rate in ‰."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    province_slug: str = Check(pattern=PROVINCE_PATTERN)
    province_code: str = Check(pattern=r"^\d{6}$")
    year: int = Check(ge=1949, le=2100)
    population: int = Check(gt=0, lt=10**9)
    death_rate_permille: Decimal = Check(gt=0, lt=50, decimal_places=2)
    expected_deaths: int = Check(ge=0)
    source: str = Check(min_length=1, max_length=200)


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


_COMPARED = ("province_code", "population", "death_rate_permille", "expected_deaths", "source")


def load(session: Session, journal: Journal, figures: list[ExpectedFigure], *, actor: str) -> list[dict]:
    """Create or correct each province-year (a row the same as stored is left alone: loading twice changes
    nothing); one transaction, each change audited with the figures before and after."""
    outcomes: list[dict] = []
    with journal.write(session, actor=actor) as unit:
        for figure in figures:
            stored = session.get(ExpectedDeaths, (figure.province_slug, figure.year))
            values = figure.model_dump()
            before = None if stored is None else {name: _plain(getattr(stored, name)) for name in _COMPARED}
            after = {name: _plain(values[name]) for name in _COMPARED}
            outcome = Outcome.created if stored is None else (
                Outcome.unchanged if before == after else Outcome.updated)
            outcomes.append({"province": figure.province_slug, "year": figure.year, "outcome": outcome.value,
                             "expected_deaths": figure.expected_deaths})
            if outcome == Outcome.unchanged:
                continue
            session.merge(ExpectedDeaths(**values, loaded_at=utcnow()))
            unit.record(action="national.expected_deaths.load", object_type="expected_deaths",
                        object_id=f"{figure.province_slug}/{figure.year}",
                        detail={"before": before, "after": after})
    return outcomes


def _plain(value: object) -> object:
    return str(value.quantize(Decimal("0.01"))) if isinstance(value, Decimal) else value  # 7.1 and 7.10 alike


def expected_in(session: Session, *, year: int) -> dict[str, ExpectedDeaths]:
    """Every province's expected figure for `year`, by province slug."""
    return {row.province_slug: row for row in session.exec(select(ExpectedDeaths).where(ExpectedDeaths.year == year))}


def expected_between(session: Session, *, first: int, last: int) -> dict[tuple[str, int], int]:
    """Expected deaths of every province and year from `first` to `last`."""
    rows = session.exec(select(ExpectedDeaths.province_slug, ExpectedDeaths.year, ExpectedDeaths.expected_deaths)
                        .where(ExpectedDeaths.year >= first, ExpectedDeaths.year <= last))
    return {(slug, year): expected for slug, year, expected in rows}
