"""Query codes (查询码): a citizen looks up the status of an application, booking or complaint without signing in.

A code is drawn with `secrets` (12 characters of 31, about 59 bits: not guessable within the lookup limit) and
shown once, to whoever submitted; the registry keeps only its SM3 digest, so a copy of the database or the audit
trail reveals no working code. Lookups go through `ctx.query_attempts` (registry.limits.AttemptLimiter): a wrong
code costs the client an attempt, and an unknown code and a wrong one get the same answer.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime

from registry.security import crypto

# no 0/O, 1/I/L: read off a receipt and typed by hand
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 12
GROUP = 4


def new_code() -> str:
    """A fresh code as shown to people: three groups of four, e.g. `K7QM-2HXP-9TRA`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(typed: str) -> str:
    """As people type it: any case, spaces or dashes between groups."""
    return "".join(typed.split()).replace("-", "").upper()


def digest(code: str) -> str:
    """What the registry stores and looks codes up by (64 hex characters); the code itself is never stored."""
    return crypto.sm3_hex(f"query-code:{normalize(code)}".encode())


def well_formed(typed: str) -> bool:
    code = normalize(typed)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


@dataclass(frozen=True)
class PublicStatus:
    """What a query code reveals: the kind of item, its public number and where it stands, never who or what.

    `kind` and `status` are machine values (e.g. "approval", "accepted"); pages put them into words."""
    kind: str
    number: str
    status: str
    updated_at: datetime
    # a deadline or an answer date the citizen is waiting for, when there is one
    due_on: datetime | None = None
