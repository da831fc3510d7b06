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


def resident_id(value: str) -> str:
    """GB 11643 citizen ID number: format, date of birth and checksum."""
    try:
        return ric.validate(value)
    except StdnumError as exc:
        raise PydanticCustomError("id_checksum", "not a valid resident ID number (GB 11643): {reason}",
                                  {"reason": str(exc)}) from None


CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18),
                       AfterValidator(_credit_code)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$"), AfterValidator(_region_code)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9-]{5,19}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def rule_error(field: str, rule: str, message: str) -> PydanticCustomError:
    """A cross-field refusal from a model validator that still names its field and rule."""
    return PydanticCustomError(rule, message, {"field": field})
