"""The signed text in the QR code of a document the registry issues, and how anyone checks it with only the
tenant's public key (GET /.well-known/fsp-certificate-key), online or offline.

Two kinds: cremation certificates (`FSPC1`) and cross-province transport permits (`FSPP1`). The signed fields, in
this order, joined by `|`: `<version>|<tenant code>|<number>|<check code>|<issued date>|<key id>`, then the kind's
own fields (a permit: destination region, planned date, vehicle plate, what the receiving province checks on
arrival). The QR holds the portal's verification URL `<base><verify path>?c=<fields>&s=<signature>` (a phone
camera opens it); `s` is the base64url SM2 signature (SM3 digest) of exactly the UTF-8 bytes of `c`. The compact
form `<fields>|<signature>` is accepted too. Nothing about a person is in it.
"""
import secrets
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

from registry.security import crypto
from registry.security.keys import CertificateKey

# no 0/O, 1/I/L: read off paper and typed by hand
CHECK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECK_CODE_LENGTH = 8
_COMMON = 6  # version, tenant code, number, check code, issued date, key id


@dataclass(frozen=True)
class DocumentKind:
    version: str
    verify_path: str
    # the names of the kind's own signed fields, after the common ones
    extra: tuple[str, ...] = ()
    name: str = ""


CERTIFICATE = DocumentKind("FSPC1", "/certificates/verify", name="certificate")
PERMIT = DocumentKind("FSPP1", "/permits/verify", extra=("to_region", "planned_on", "vehicle_plate"), name="permit")
KINDS = {kind.version: kind for kind in (CERTIFICATE, PERMIT)}


def new_check_code() -> str:
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))


def normalize_check_code(typed: str) -> str:
    """As people type it: any case, spaces or dashes between groups."""
    return "".join(typed.split()).replace("-", "").upper()


class UnreadableQr(ValueError):
    """The text is not the QR of a document of the expected kind."""


@dataclass(frozen=True)
class Claim:
    """What a QR code says about a document, and its signature (not yet checked)."""
    tenant_code: str
    number: str
    check_code: str
    issued_on: date
    key_id: str
    fields: str
    signature: str
    kind: DocumentKind = CERTIFICATE
    extra: dict[str, str] = field(default_factory=dict)

    def signed_by(self, public_hex: str) -> bool:
        """The signature is the key's over exactly these fields, and the key is the one the QR names."""
        return (crypto.constant_time_equal(self.key_id, crypto.key_id(bytes.fromhex(public_hex)))
                and crypto.sm2_verify(public_hex, self.fields.encode(), self.signature))


def fields(kind: DocumentKind, *, tenant_code: str, number: str, check_code: str, issued_on: date, key_id: str,
           extra: dict[str, str] | None = None) -> str:
    extra = extra or {}
    if set(extra) != set(kind.extra) or any("|" in value for value in extra.values()):
        raise ValueError(f"{kind.version} signs exactly {kind.extra}, none holding '|'")
    common = (kind.version, tenant_code, number, check_code, issued_on.isoformat(), key_id)
    return "|".join((*common, *(extra[name] for name in kind.extra)))


def sign(kind: DocumentKind, key: CertificateKey, *, tenant_code: str, number: str, check_code: str,
         issued_on: date, extra: dict[str, str] | None = None) -> tuple[str, str]:
    """(`c`, `s`): the canonical fields and their SM2 signature with the tenant's key."""
    signed = fields(kind, tenant_code=tenant_code, number=number, check_code=check_code, issued_on=issued_on,
                    key_id=key.key_id, extra=extra)
    return signed, crypto.sm2_sign(key.private_hex, key.public_hex, signed.encode())


def url(kind: DocumentKind, base: str, c: str, s: str) -> str:
    return f"{base.rstrip('/')}{kind.verify_path}?{urlencode({'c': c, 's': s})}"


def parse_fields(c: str, s: str, kind: DocumentKind | None = None) -> Claim:
    """The claim of signed fields; of `kind` when given, else of whichever kind its version names."""
    parts = c.split("|")
    found = KINDS.get(parts[0])
    if found is None or (kind is not None and found != kind):
        raise UnreadableQr(f"not an {kind.version if kind else ' or '.join(KINDS)} code")
    if len(parts) != _COMMON + len(found.extra):
        raise UnreadableQr(f"an {found.version} code has {_COMMON + len(found.extra)} fields")
    _, tenant_code, number, check_code, issued, key_id = parts[:_COMMON]
    try:
        issued_on = date.fromisoformat(issued)
    except ValueError:
        raise UnreadableQr(f"issue date {issued!r} is not a date") from None
    return Claim(tenant_code, number, check_code, issued_on, key_id, c, s, kind=found,
                 extra=dict(zip(found.extra, parts[_COMMON:], strict=True)))


def parse(text: str, kind: DocumentKind | None = None) -> Claim:
    """A claim from the QR's text: the verification URL, or the compact `<fields>|<signature>`."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(text).query)
        if len(query.get("c", [])) != 1 or len(query.get("s", [])) != 1:
            raise UnreadableQr("the URL carries no c= and s= parameters")
        return parse_fields(query["c"][0], query["s"][0], kind)
    c, _, s = text.rpartition("|")
    return parse_fields(c, s, kind)
