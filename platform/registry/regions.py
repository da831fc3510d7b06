"""GB/T 2260 administrative division codes, from python-stdnum's maintained table."""
from functools import lru_cache

from stdnum import numdb


@lru_cache(maxsize=4096)
def describe(code: str) -> dict[str, str] | None:
    """Province and county (or prefecture) names of a six-digit code, or None when the code is unknown."""
    if len(code) != 6 or not code.isdigit():
        return None
    merged: dict[str, str] = {}
    for _, properties in numdb.get("cn/loc").info(code):
        merged.update(properties)
    if "province" not in merged:
        return None
    if code.endswith("0000"):
        return {"province": merged["province"]}
    # historical codes stay known: older ID numbers and archives carry them
    return merged if "county" in merged else None


def is_known(code: str) -> bool:
    return describe(code) is not None


def is_county(code: str) -> bool:
    """A county-level code (or a prefecture's own districts code) that existed at some time: an ID number's prefix."""
    described = describe(code)
    return described is not None and "county" in described


# 新疆生产建设兵团 has no GB/T 2260 province code; its cities are the 6590xx county-level cities of Xinjiang
_REGION_PREFIXES = {"660000": ("6590",)}


def in_province(code: str, province_code: str) -> bool:
    """Whether a region code lies inside a tenant's province."""
    prefixes = _REGION_PREFIXES.get(province_code, (province_code[:2],))
    return code.startswith(prefixes)
