"""Signatures of a payment provider's messages, as WeChat Pay v3 makes them: RSA-2048 PKCS#1 v1.5 with SHA-256
over "timestamp\\nnonce\\nbody\\n", sent in headers beside the body. The provider signs with its private key; the
registry holds only its public key. Used by the sandbox provider (signing) and the registry (verifying)."""
import base64
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TIMESTAMP, NONCE, SIGNATURE, SERIAL = "Pay-Timestamp", "Pay-Nonce", "Pay-Signature", "Pay-Serial"
MAX_AGE_SECONDS = 300  # a notice older (or further in the future) than this is refused: it may be replayed


class SignatureRefused(Exception):
    """Why a message is not the provider's: `rule` names the check it failed."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class Signed:
    """A verified message: its nonce (kept by the receiver, never accepted twice) and its body."""
    nonce: str
    timestamp: int
    body: bytes


def _message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


def serial_of(public_key: rsa.RSAPublicKey) -> str:
    """The key's serial in the headers: which of the provider's keys signed (a SHA-256 of the public key)."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    return digest.finalize()[:16].hex()


def sign(private_key: rsa.RSAPrivateKey, body: bytes, *, timestamp: int | None = None,
         nonce: str | None = None) -> dict[str, str]:
    """The headers that sign `body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    signature = private_key.sign(_message(stamp, nonce, body), padding.PKCS1v15(), hashes.SHA256())
    return {TIMESTAMP: stamp, NONCE: nonce, SIGNATURE: base64.b64encode(signature).decode(),
            SERIAL: serial_of(private_key.public_key())}


def verify(public_key: rsa.RSAPublicKey, headers, body: bytes, *, now: float | None = None,
           max_age: int = MAX_AGE_SECONDS) -> Signed:
    """The message if `public_key` signed it within `max_age` seconds of now; SignatureRefused otherwise."""
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp, nonce, signature = (lowered.get(name.lower(), "") for name in (TIMESTAMP, NONCE, SIGNATURE))
    if not (stamp.isdigit() and len(stamp) <= 12 and 8 <= len(nonce) <= 64 and nonce.isascii() and nonce.isalnum()
            and signature):
        raise SignatureRefused("notice_signature", "the signature headers are missing or malformed")
    try:
        public_key.verify(base64.b64decode(signature, validate=True), _message(stamp, nonce, body),
                          padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError) as err:
        raise SignatureRefused("notice_signature", "the signature is not the provider's") from err
    if abs((time.time() if now is None else now) - int(stamp)) > max_age:
        raise SignatureRefused("notice_stale", f"the notice was signed more than {max_age} seconds from now")
    return Signed(nonce=nonce, timestamp=int(stamp), body=body)


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("the payment provider's key must be an RSA key of at least 2048 bits")
    return key


def public_pem(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
