"""Field types shared by the domains; checksums come from python-stdnum, not hand-written code."""
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Strict, StringConstraints
from pydantic_core import PydanticCustomError
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from registry import regions


def _credit_code(value: str) -> str:
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise PydanticCustomError("credit_code", "not a valid unified social credit code (GB 32100): {reason}",
                                  {"reason": str(exc)}) from None


def _region_code(value: str) -> str:
    if not regions.is_known(value):
        raise PydanticCustomError("region_code_known", "{code} is not a known GB/T 2260 region code", {"code": value})
    return value


# the earliest birth year an ID number can carry: nobody alive when the first cards were issued was born before it
EARLIEST_BIRTH_YEAR = 1880


def resident_id(value: str) -> str:
    """GB 11643 citizen ID number: format, checksum, date of birth, and a region code known at any time.

    The six-digit prefix is the county code where the number was issued (from the 1980s on), not the code valid
    at birth: stdnum's `cn.ric` checks it against the table at the birth date and so refuses `370102…` for
    anyone born before Jinan's code of 1983. The checksum and the date come from stdnum; the region may be any
    GB/T 2260 county code, current or historical.
    """
    # stdnum's compact maps look-alike characters one by one (most of a record's validation time in a backfill):
    # a number of plain ASCII letters and digits is already compact
    number = value.upper() if value.isascii() and value.isalnum() else ric.compact(value)
    try:
        if len(number) != 18:
            raise StdnumError("the number must have 18 characters") from None
        if not number[:-1].isdigit():
            raise StdnumError("the first 17 characters must be digits") from None
        if number[-1] != ric.calc_check_digit(number):
            raise StdnumError("the check digit does not match") from None
    except StdnumError as exc:
        raise PydanticCustomError("id_checksum", "not a valid resident ID number (GB 11643): {reason}",
                                  {"reason": str(exc)}) from None
    try:
        birth = _birth_date(number)
    except ValueError:
        raise PydanticCustomError("id_birth_date", "characters 7 to 14 of the ID number are not a date of birth",
                                  {}) from None
    if not EARLIEST_BIRTH_YEAR <= birth.year:
        raise PydanticCustomError("id_birth_date", "the date of birth in the ID number is before {year}",
                                  {"year": EARLIEST_BIRTH_YEAR})
    if not regions.is_county(number[:6]):
        raise PydanticCustomError("id_region", "{code} is not a GB/T 2260 county code of any time",
                                  {"code": number[:6]})
    return number


def _birth_date(number: str) -> date:
    """Characters 7 to 14 of a compact ID number as a date (what `ric.get_birth_date` reads, without compacting
    the number again)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# NUL, C0 and C1 controls, bidirectional overrides and isolates (a name that displays other than it is stored),
# and unpaired surrogates (no UTF-8 encoding: neither the database nor the audit chain can store them)
_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# a note or reason may run over several lines
_NOT_PLAIN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _plain(pattern: re.Pattern):
    def check(value: str) -> str:
        found = pattern.search(value)
        if found:
            raise PydanticCustomError("plain_text", "character U+{code} at position {position} is not allowed here "
                                      "(control, bidirectional-override or unpaired surrogate)",
                                      {"code": f"{ord(found.group()):04X}", "position": found.start()})
        return value
    return check


def text(max_length: int, min_length: int = 1, *, multiline: bool = False) -> type[str]:
    """Free text, trimmed, of printable characters only (newlines and tabs too if `multiline`)."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_plain(_NOT_PLAIN_LINES if multiline else _NOT_PLAIN))]


# a tag or an HTML comment: prose that is published is plain text, shown as written and never as markup
_MARKUP = re.compile(r"<\s*(?:[/?]?\s*[A-Za-z]|!)")


def _no_markup(value: str) -> str:
    found = _MARKUP.search(value)
    if found:
        raise PydanticCustomError("no_markup", "plain text only: markup (an HTML tag) at position {position} is not "
                                  "accepted", {"position": found.start()})
    return value


def prose(max_length: int, min_length: int = 1) -> type[str]:
    """Text published to the public, over several lines (paragraphs): plain, no HTML, line ends as `\\n`."""
    return Annotated[text(max_length, min_length, multiline=True), BeforeValidator(_unix_line_ends),
                     AfterValidator(_no_markup)]


def _unix_line_ends(value):
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


# clocks of clients drift: a time a few minutes ahead is still accepted
CLOCK_SKEW = timedelta(minutes=5)


def _no_number(kind: str):
    """Refuses numbers before pydantic would read them as Unix timestamps (`-1` is not a date of death)."""
    def check(value):
        if isinstance(value, (int, float)):
            raise PydanticCustomError(f"{kind}_type", f"Input should be a {kind} string (ISO 8601), not a number")
        return value
    return check


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value):
    """A day is written 2024-05-06: pydantic alone reads `0` or "0" as 1970-01-01 (a Unix timestamp)."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and not _ISO_DAY.match(value.strip())):
        raise PydanticCustomError("date_type", "Input should be a date string such as 2024-05-06")
    return value


# a calendar day in a body or a query string, written as ISO 8601 (YYYY-MM-DD) and nothing else
Day = Annotated[date, BeforeValidator(_iso_day)]


def _within(earliest, latest):
    def check(value):
        if value < earliest:
            raise PydanticCustomError("too_early", "must not be before {earliest}", {"earliest": str(earliest)})
        if latest is not None and value > latest():
            raise PydanticCustomError("not_future", "is in the future")
        return value
    return check


def _now() -> datetime:
    return datetime.now(UTC) + CLOCK_SKEW


def _today() -> date:
    return (datetime.now(UTC) + timedelta(days=1)).date()  # today somewhere east of UTC


def past_moment(since: int) -> type[datetime]:
    """A timezone-aware time, written as a string, from the year `since` up to now (give or take CLOCK_SKEW)."""
    return Annotated[AwareDatetime, BeforeValidator(_no_number("datetime")),
                     AfterValidator(_within(datetime(since, 1, 1, tzinfo=UTC), _now))]


def past_date(since: int) -> type[date]:
    """A calendar date, written as a string, from the year `since` up to today."""
    return Annotated[date, BeforeValidator(_no_number("date")), AfterValidator(_within(date(since, 1, 1), _today))]


# when the registry's events happened: nothing of it lies ahead, and archives go back to 1900
EventTime = past_moment(1900)
BirthDate = past_date(1880)
# an integer, never a boolean, float or numeric string
StrictInt = Annotated[int, Strict()]

CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18),
                       AfterValidator(_credit_code)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$"), AfterValidator(_region_code)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9-]{5,19}$")]
Name = text(100)
ShortText = text(200)


def rule_error(field: str, rule: str, message: str) -> PydanticCustomError:
    """A cross-field refusal from a model validator that still names its field and rule."""
    return PydanticCustomError(rule, message, {"field": field})
