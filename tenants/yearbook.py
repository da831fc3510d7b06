"""The yearbook table behind registration completeness: population and crude death rate per province and year.

Figures are the national statistical yearbook's (中国统计年鉴, the table of year-end population and birth, death
and natural growth rates by region), one row per province and year, each naming its edition and table. Expected
deaths = population × crude death rate. The catalog ships only figures it can cite (`catalog/yearbook.csv`); the
ministry loads later editions from the same CSV layout (`fsp national load-yearbook`). A province or year left out
has no expected figure: its completeness is then shown as unknown, never estimated.
"""
import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from tenants.divisions import PROVINCIAL_DIVISIONS

YEARBOOK_FILE = "yearbook.csv"
COLUMNS = ("province_code", "year", "population_10k", "death_rate_permille", "source")
FIRST_YEAR, LAST_YEAR = 1949, 2100
MAX_SOURCE = 200


@dataclass(frozen=True)
class YearbookFigure:
    """One province's year: year-end population in 10,000 persons (万人) and crude death rate (‰), as published."""

    province_code: str
    year: int
    population_10k: Decimal
    death_rate_permille: Decimal
    source: str

    @property
    def population(self) -> int:
        return int((self.population_10k * 10_000).to_integral_value(ROUND_HALF_UP))

    @property
    def expected_deaths(self) -> int:
        """Population × crude death rate, to the nearest person."""
        return int((self.population_10k * 10 * self.death_rate_permille).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class YearbookProblem:
    """One thing wrong with a yearbook table: the line (1 = the heading), the column, why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class YearbookError(ValueError):
    """The table cannot be used; `problems` lists everything found, and nothing of it is taken."""

    def __init__(self, source: str, problems: list[YearbookProblem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid yearbook table {source}: {len(problems)} problem(s)\n{lines}")


def read_yearbook(path: Path) -> tuple[YearbookFigure, ...]:
    """Every row of the CSV at `path` (UTF-8, a BOM allowed), checked as a whole: YearbookError lists all problems."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise YearbookError(str(path), [YearbookProblem(0, "-", str(err))]) from None
    return parse_yearbook(text, source=str(path))


def parse_yearbook(text: str, *, source: str) -> tuple[YearbookFigure, ...]:
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(cell.strip() for cell in rows[0]) != COLUMNS:
        raise YearbookError(source, [YearbookProblem(1, "-", f"the heading must be {','.join(COLUMNS)}")])
    problems: list[YearbookProblem] = []
    figures: list[YearbookFigure] = []
    first_line: dict[tuple[str, int], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        found = _figure(line, row, problems)
        if found is None:
            continue
        key = (found.province_code, found.year)
        if key in first_line:
            problems.append(YearbookProblem(line, "year", f"{found.year} of {found.province_code} again "
                                                          f"(first on line {first_line[key]})"))
            continue
        first_line[key] = line
        figures.append(found)
    if problems:
        raise YearbookError(source, problems)
    return tuple(sorted(figures, key=lambda f: (f.province_code, f.year)))


def _figure(line: int, row: list[str], problems: list[YearbookProblem]) -> YearbookFigure | None:
    if len(row) != len(COLUMNS):
        problems.append(YearbookProblem(line, "-", f"{len(row)} columns, expected {len(COLUMNS)}"))
        return None
    code, year, population, rate, source = (cell.strip() for cell in row)
    before = len(problems)
    if code not in PROVINCIAL_DIVISIONS:
        problems.append(YearbookProblem(line, "province_code", f"{code!r} is not a provincial-level division code"))
    if not (year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
        problems.append(YearbookProblem(line, "year", f"{year!r} is not a year between {FIRST_YEAR} and {LAST_YEAR}"))
    population_10k = _decimal(line, "population_10k", population, Decimal(0), Decimal(100_000), problems)
    death_rate = _decimal(line, "death_rate_permille", rate, Decimal(0), Decimal(50), problems)
    if not source or len(source) > MAX_SOURCE:
        problems.append(YearbookProblem(line, "source", f"name the yearbook edition and table, in 1 to {MAX_SOURCE} "
                                                        "characters"))
    if len(problems) > before:
        return None
    return YearbookFigure(code, int(year), population_10k, death_rate, source)


def _decimal(line: int, field: str, text: str, low: Decimal, high: Decimal,
             problems: list[YearbookProblem]) -> Decimal:
    """A positive figure below `high`, as printed (万人 or ‰ with up to two decimals)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not low < value < high or value.as_tuple().exponent < -2:
        problems.append(YearbookProblem(line, field, f"{text!r} is not a figure above {low} and below {high} "
                                                     "with at most two decimals"))
        return Decimal(0)
    return value
