"""How personal data is shown to people: enough to recognise, not enough to rebuild.

A resident ID number is its issuing region (6), the birth date (8), a sequence (3) and a check digit (1). The
birth date is shown beside it and the region is usually the household region, so what must stay hidden is the
sequence and the check digit: shown together with the birth date they give back all 18 characters.
"""

RESIDENT_ID_LENGTH = 18
SHOWN_REGION = 6


def mask_id_number(value: str) -> str:
    """A resident ID number keeps only its region (110105************); any other number its last 2 characters
    when it is long enough that they say little (E1******78 is shown as *******78)."""
    if len(value) == RESIDENT_ID_LENGTH and value[:17].isdigit():
        return value[:SHOWN_REGION] + "*" * (RESIDENT_ID_LENGTH - SHOWN_REGION)
    if len(value) < 8:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits: 138****1234."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Keep the first character (the family name, usually): 张**."""
    return value[:1] + "*" * max(len(value) - 1, 2) if len(value) > 1 else "*"
