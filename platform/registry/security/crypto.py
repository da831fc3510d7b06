"""All cryptography of the registry, in one place so a certified product can replace it.

SM4-GCM for personal data at rest, HMAC-SM3 for blind indexes and for sealing the audit chain, SM3 for the audit
chain's links (GB/T 32907, GB/T 32905), RSA key pairs for the development token issuer, Ed25519 for signing
exchange batches.
"""
import base64
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SM4_KEY_BYTES = 16
INDEX_KEY_BYTES = 32
AUDIT_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX = "sm4gcm1:"


class DecryptionError(Exception):
    """A ciphertext was altered, or was made with another key."""


def new_sm4_key() -> bytes:
    return os.urandom(SM4_KEY_BYTES)


def new_index_key() -> bytes:
    return os.urandom(INDEX_KEY_BYTES)


def new_audit_key() -> bytes:
    return os.urandom(AUDIT_KEY_BYTES)


def key_id(key: bytes) -> str:
    """A short public name of a secret key: tells which key sealed something without revealing it."""
    return sm3_hex(b"fsp-key-id:" + key)[:16]


def sm4_gcm_encrypt(key: bytes, plaintext: str, *, context: bytes) -> str:
    """Encrypt text; `context` (the field's name) is authenticated so values cannot be swapped between fields."""
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(context)
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return _PREFIX + base64.b64encode(nonce + body + encryptor.tag).decode()


def sm4_gcm_decrypt(key: bytes, token: str, *, context: bytes) -> str:
    """Decrypt what sm4_gcm_encrypt made; tampering raises DecryptionError."""
    if not token.startswith(_PREFIX):
        raise DecryptionError("not an SM4-GCM ciphertext")
    raw = base64.b64decode(token[len(_PREFIX):])
    nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(context)
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


def hmac_sm3(key: bytes, value: str) -> str:
    """Keyed blind index: equal values match, the value itself cannot be recovered without the key."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(value.encode())
    return mac.finalize().hex()


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())


def new_rsa_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem, password=None)  # type: ignore[return-value]


def new_exchange_signing_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair (private PKCS8 PEM, public SPKI PEM) that signs a province's exchange batches."""
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def ed25519_sign(private_pem: bytes, data: bytes) -> str:
    """Base64 Ed25519 signature of `data` with a PKCS8 PEM private key."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return base64.b64encode(key.sign(data)).decode()


def ed25519_verify(public_pem: bytes, data: bytes, signature_b64: str) -> bool:
    """True only when `signature_b64` is a valid Ed25519 signature of exactly `data` by the PEM public key."""
    try:
        key = serialization.load_pem_public_key(public_pem)
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return False
    if not isinstance(key, ed25519.Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
