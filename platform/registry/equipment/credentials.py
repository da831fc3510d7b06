"""Device credentials: 256 random bits shown once; the registry keeps only their SM3 digest, so a copy of the
database or of the audit trail holds no working credential. Compared in constant time."""
import secrets

from registry.security import crypto

PREFIX = "fspd_"  # recognisable in a leaked config file or a secret scanner


def new_credential() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(credential: str) -> str:
    return crypto.sm3_hex(f"device-credential:{credential}".encode())


def matches(credential: str, stored_digest: str) -> bool:
    return crypto.constant_time_equal(digest(credential), stored_digest)
