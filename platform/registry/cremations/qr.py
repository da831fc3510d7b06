"""The signed text in a cremation certificate's QR code, and how anyone checks it with only the public key.

The signed fields, in this order, joined by `|`: `FSPC1|<tenant code>|<number>|<check code>|<issued date>|<key id>`.
The QR holds the portal's verification URL `<base>/certificates/verify?c=<fields>&s=<signature>` (a phone camera
opens it); `s` is the base64url SM2 signature (SM3 digest) of exactly the UTF-8 bytes of `c`. The compact form
`<fields>|<signature>` is accepted too. Nothing about the deceased is in it.
"""
import secrets
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

from registry.security import crypto
from registry.security.keys import CertificateKey

VERSION = "FSPC1"
VERIFY_PATH = "/certificates/verify"
# no 0/O, 1/I/L: read off paper and typed by hand
CHECK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECK_CODE_LENGTH = 8


def new_check_code() -> str:
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))


def normalize_check_code(typed: str) -> str:
    """As people type it: any case, spaces or dashes between groups."""
    return "".join(typed.split()).replace("-", "").upper()


@dataclass(frozen=True)
class Claim:
    """What a QR code says about a certificate, and its signature (not yet checked)."""
    tenant_code: str
    number: str
    check_code: str
    issued_on: date
    key_id: str
    fields: str
    signature: str

    def signed_by(self, public_hex: str) -> bool:
        """The signature is the key's over exactly these fields, and the key is the one the QR names."""
        return (crypto.constant_time_equal(self.key_id, crypto.key_id(bytes.fromhex(public_hex)))
                and crypto.sm2_verify(public_hex, self.fields.encode(), self.signature))


class UnreadableQr(ValueError):
    """The text is not an FSPC1 certificate QR."""


def fields(*, tenant_code: str, number: str, check_code: str, issued_on: date, key_id: str) -> str:
    return "|".join((VERSION, tenant_code, number, check_code, issued_on.isoformat(), key_id))


def sign(key: CertificateKey, *, tenant_code: str, number: str, check_code: str, issued_on: date) -> tuple[str, str]:
    """(`c`, `s`): the canonical fields and their SM2 signature with the tenant's certificate key."""
    signed = fields(tenant_code=tenant_code, number=number, check_code=check_code, issued_on=issued_on,
                    key_id=key.key_id)
    return signed, crypto.sm2_sign(key.private_hex, key.public_hex, signed.encode())


def url(base: str, c: str, s: str) -> str:
    return f"{base.rstrip('/')}{VERIFY_PATH}?{urlencode({'c': c, 's': s})}"


def parse_fields(c: str, s: str) -> Claim:
    parts = c.split("|")
    if len(parts) != 6 or parts[0] != VERSION:
        raise UnreadableQr(f"not an {VERSION} certificate code")
    _, tenant_code, number, check_code, issued, key_id = parts
    try:
        issued_on = date.fromisoformat(issued)
    except ValueError:
        raise UnreadableQr(f"issue date {issued!r} is not a date") from None
    return Claim(tenant_code, number, check_code, issued_on, key_id, c, s)


def parse(text: str) -> Claim:
    """A claim from the QR's text: the verification URL, or the compact `<fields>|<signature>`."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(text).query)
        if len(query.get("c", [])) != 1 or len(query.get("s", [])) != 1:
            raise UnreadableQr("the URL carries no c= and s= parameters")
        return parse_fields(query["c"][0], query["s"][0])
    c, _, s = text.rpartition("|")
    return parse_fields(c, s)
