"""The signed text in a cremation certificate's QR code (`FSPC1`): registry.signed_documents for certificates."""
from datetime import date

from registry import signed_documents
from registry.security.keys import CertificateKey
from registry.signed_documents import (  # noqa: F401  (the certificate's vocabulary, where callers look for it)
    CHECK_CODE_ALPHABET,
    CHECK_CODE_LENGTH,
    Claim,
    UnreadableQr,
    new_check_code,
    normalize_check_code,
)

KIND = signed_documents.CERTIFICATE
VERSION, VERIFY_PATH = KIND.version, KIND.verify_path


def sign(key: CertificateKey, *, tenant_code: str, number: str, check_code: str, issued_on: date) -> tuple[str, str]:
    """(`c`, `s`): the certificate's canonical fields and their SM2 signature with the tenant's key."""
    return signed_documents.sign(KIND, key, tenant_code=tenant_code, number=number, check_code=check_code,
                                 issued_on=issued_on)


def url(base: str, c: str, s: str) -> str:
    return signed_documents.url(KIND, base, c, s)


def parse_fields(c: str, s: str) -> Claim:
    return signed_documents.parse_fields(c, s, KIND)


def parse(text: str) -> Claim:
    return signed_documents.parse(text, KIND)
