"""How personal data is shown to people: enough to recognise, not enough to reuse."""


def mask_id_number(value: str) -> str:
    """Keep the region (6) and the last 4 characters: 110101********123X."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits: 138****1234."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
