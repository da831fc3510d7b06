"""Field types shared by the domains; checksums come from python-stdnum, not hand-written code."""
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
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
    number = ric.compact(value)
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
        birth = ric.get_birth_date(number)
    except StdnumError:
        raise PydanticCustomError("id_birth_date", "characters 7 to 14 of the ID number are not a date of birth",
                                  {}) from None
    if not EARLIEST_BIRTH_YEAR <= birth.year:
        raise PydanticCustomError("id_birth_date", "the date of birth in the ID number is before {year}",
                                  {"year": EARLIEST_BIRTH_YEAR})
    if not regions.is_county(number[:6]):
        raise PydanticCustomError("id_region", "{code} is not a GB/T 2260 county code of any time",
                                  {"code": number[:6]})
    return number


CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18),
                       AfterValidator(_credit_code)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$"), AfterValidator(_region_code)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9-]{5,19}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def rule_error(field: str, rule: str, message: str) -> PydanticCustomError:
    """A cross-field refusal from a model validator that still names its field and rule."""
    return PydanticCustomError(rule, message, {"field": field})
