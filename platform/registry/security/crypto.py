"""All cryptography of the registry, in one place so a certified product can replace it.

SM4-GCM for personal data at rest, HMAC-SM3 for blind indexes and for sealing the audit chain, SM3 for the audit
chain's links (GB/T 32907, GB/T 32905), RSA key pairs for the development token issuer, Ed25519 for signing
exchange batches and notices before the switch, SM2 with SM3 (GB/T 32918) for the QR codes printed on cremation
certificates and, once a tenant's signing key is rotated, for exchange batches and department notices (`Signer`).
What protects what is listed in `registry.security.algorithms`.
"""
import base64
import functools
import hashlib
import hmac as std_hmac
import os
import re
import secrets
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2

SM4_KEY_BYTES = 16
INDEX_KEY_BYTES = 32
AUDIT_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX = "sm4gcm1:"
_VERSIONED = re.compile(r"^sm4gcm1:(?:v([1-9][0-9]{0,5}):)?")


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


def sm4_gcm_seal(key: bytes, data: bytes, *, context: bytes) -> bytes:
    """Encrypt bytes (nonce, ciphertext, tag); `context` is authenticated so ciphertexts cannot be swapped."""
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(_sm4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(context)
    return nonce + encryptor.update(data) + encryptor.finalize() + encryptor.tag


@functools.lru_cache(maxsize=32)
def _sm4(key: bytes) -> algorithms.SM4:
    """The keyed algorithm, made once per key: a backfill encrypts millions of fields (each with its own nonce)."""
    return algorithms.SM4(key)


def sm4_gcm_open(key: bytes, sealed: bytes, *, context: bytes) -> bytes:
    """Decrypt what sm4_gcm_seal made; tampering, another key or another context raises DecryptionError."""
    nonce, body, tag = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    if len(nonce) != _NONCE_BYTES or len(tag) != _TAG_BYTES:
        raise DecryptionError("not an SM4-GCM ciphertext")
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(context)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


def sm4_gcm_encrypt(key: bytes, plaintext: str, *, context: bytes, version: int = 1) -> str:
    """Encrypt text; `context` (the field's name) is authenticated so values cannot be swapped between fields.

    `version` names the field key's version: `sm4gcm1:<base64>` is version 1 (the format before rotation),
    `sm4gcm1:v<N>:<base64>` any later one (base64 has no `:`, so the two never mix up)."""
    sealed = base64.b64encode(sm4_gcm_seal(key, plaintext.encode(), context=context)).decode()
    return _PREFIX + (f"v{version}:" if version != 1 else "") + sealed


def ciphertext_version(token: str) -> int:
    """The field key version a text ciphertext names (1 for the format before rotation)."""
    match = _VERSIONED.match(token)
    if match is None:
        raise DecryptionError("not an SM4-GCM ciphertext")
    return int(match.group(1) or 1)


def sm4_gcm_decrypt(key: bytes, token: str, *, context: bytes) -> str:
    """Decrypt what sm4_gcm_encrypt made (any version, with that version's key); tampering raises DecryptionError."""
    match = _VERSIONED.match(token)
    if match is None:
        raise DecryptionError("not an SM4-GCM ciphertext")
    return sm4_gcm_open(key, base64.b64decode(token[match.end():]), context=context).decode()


# sealed bytes under a field key version > 1 start with this and the version (2 bytes); version 1 has no header.
# An unlucky version 1 nonce may look like a header: the header is then tried and, failing authentication, ignored.
SEAL_HEADER = b"sm4v"


def sm4_gcm_seal_versioned(key: bytes, data: bytes, *, context: bytes, version: int) -> bytes:
    header = SEAL_HEADER + version.to_bytes(2, "big") if version != 1 else b""
    return header + sm4_gcm_seal(key, data, context=context)


def sealed_version(sealed: bytes) -> int | None:
    """The version a sealed blob's header names, or None when it has none (version 1)."""
    if sealed.startswith(SEAL_HEADER) and len(sealed) > len(SEAL_HEADER) + 2:
        return int.from_bytes(sealed[len(SEAL_HEADER):len(SEAL_HEADER) + 2], "big")
    return None


# streams (backups): nonce || SM4-GCM ciphertext || tag, read and written in chunks of this size
_CHUNK = 1 << 20


def sm4_gcm_encrypt_stream(key: bytes, source: BinaryIO, target: BinaryIO, *, context: bytes) -> None:
    """Encrypt everything `source` yields into `target`, the way sm4_gcm_encrypt does text."""
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(context)
    target.write(nonce)
    while chunk := source.read(_CHUNK):
        target.write(encryptor.update(chunk))
    target.write(encryptor.finalize() + encryptor.tag)


def sm4_gcm_decrypt_stream(key: bytes, source: BinaryIO, length: int, target: BinaryIO, *, context: bytes) -> None:
    """Decrypt `length` bytes of `source` (as sm4_gcm_encrypt_stream wrote them) into `target`; tampering, truncation
    or another key raise DecryptionError at the end, so `target` may only be trusted once this returns."""
    if length < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("too short to be an SM4-GCM ciphertext")
    nonce = source.read(_NONCE_BYTES)
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).decryptor()
    decryptor.authenticate_additional_data(context)
    left = length - _NONCE_BYTES - _TAG_BYTES
    while left:
        chunk = source.read(min(_CHUNK, left))
        if not chunk:
            raise DecryptionError("ciphertext cut short")
        left -= len(chunk)
        target.write(decryptor.update(chunk))
    try:
        target.write(decryptor.finalize_with_tag(source.read(_TAG_BYTES)))
    except (InvalidTag, ValueError):
        raise DecryptionError("ciphertext failed authentication") from None


def sm3_file(path: "os.PathLike[str] | str") -> str:
    """SM3 digest (hex) of a file, read in chunks."""
    digest = hashes.Hash(hashes.SM3())
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.finalize().hex()


def hmac_sm3(key: bytes, value: str) -> str:
    """Keyed blind index: equal values match, the value itself cannot be recovered without the key."""
    mac = _keyed_sm3(key).copy()  # the key's pads are hashed once, not per value
    mac.update(value.encode())
    return mac.finalize().hex()


@functools.lru_cache(maxsize=32)
def _keyed_sm3(key: bytes) -> hmac.HMAC:
    return hmac.HMAC(key, hashes.SM3())


def sm3_hex(data: bytes) -> str:
    if _HASHLIB_SM3:  # the same digest with less overhead per call
        return hashlib.new("sm3", data).hexdigest()
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


_HASHLIB_SM3 = "sm3" in hashlib.algorithms_available


def constant_time_equal(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())


def new_rsa_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@functools.lru_cache(maxsize=256)
def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """The key of a PEM, parsed and checked once per process (an RSA check takes tens of milliseconds, and
    `fsp serve` builds an app per tenant and again after each re-provisioning)."""
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


# SM2 (GB/T 32918) on the curve gmssl ships; keys and signatures as hex: private d (64), public 04||x||y (130),
# signature r||s (64 bytes, sent base64url)
_SM2_N = int(sm2.default_ecc_table["n"], 16)
_SM2_PUBLIC = re.compile(r"^04[0-9a-f]{128}$")


def _sm2(private_hex: str | None, public_hex: str) -> sm2.CryptSM2:
    crypt = sm2.CryptSM2(private_key=private_hex, public_key=public_hex[2:])
    crypt.public_key = public_hex[2:]  # gmssl's constructor lstrip("04")s keys whose x starts with 0 or 4
    return crypt


def new_sm2_key() -> tuple[str, str]:
    """A new SM2 key pair: (private key hex, public key hex `04||x||y`)."""
    private = secrets.randbelow(_SM2_N - 2) + 1
    point = sm2.CryptSM2(private_key=None, public_key="")._kg(private, sm2.default_ecc_table["g"])
    return f"{private:064x}", "04" + point


def sm2_public_key_valid(public_hex: str) -> bool:
    return bool(_SM2_PUBLIC.match(public_hex))


# the signer's identity in Z: GB/T 32918's default user ID, 1234567812345678 (what gmssl and most SM2 tools use)
_SM2_USER_ID = b"1234567812345678"


@functools.lru_cache(maxsize=256)
def _sm2_z(public_hex: str) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA): fixed for a public key, so made once per key."""
    table = sm2.default_ecc_table
    curve = bytes.fromhex(table["a"] + table["b"] + table["g"] + public_hex[2:])
    digest = hashes.Hash(hashes.SM3())
    digest.update((len(_SM2_USER_ID) * 8).to_bytes(2, "big") + _SM2_USER_ID + curve)
    return digest.finalize()


def _sm2_digest(public_hex: str, data: bytes) -> bytes:
    """e = SM3(Z || data), the value SM2 signs. Hashed by OpenSSL: gmssl's own SM3 is pure Python, about 4 s per
    MiB, which made signing and verifying an exchange batch of 1 MiB take 8 s."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(_sm2_z(public_hex))
    digest.update(data)
    return digest.finalize()


def sm2_sign(private_hex: str, public_hex: str, data: bytes) -> str:
    """Base64url SM2 signature (SM3 digest with the public key's Z value) of `data`.

    The nonce comes from `secrets`: gmssl's own draws from `random`, and a guessable nonce gives the key away."""
    crypt = _sm2(private_hex, public_hex)
    digest = _sm2_digest(public_hex, data)
    while True:
        signature = crypt.sign(digest, f"{secrets.randbelow(_SM2_N - 1) + 1:064x}")
        if signature is not None:  # r or s came out 0 for this nonce: draw another
            return base64.urlsafe_b64encode(bytes.fromhex(signature)).decode().rstrip("=")


def sm2_verify(public_hex: str, data: bytes, signature_b64: str) -> bool:
    """True only when `signature_b64` is a valid SM2 signature of exactly `data` under the public key."""
    if not sm2_public_key_valid(public_hex) or not re.fullmatch(r"[A-Za-z0-9_-]{86}", signature_b64 or ""):
        return False
    raw = base64.urlsafe_b64decode(signature_b64 + "==")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r < _SM2_N and 0 < s < _SM2_N):  # gmssl does not check the range itself
        return False
    crypt = _sm2(None, public_hex)
    try:
        return bool(crypt.verify(raw.hex(), _sm2_digest(public_hex, data)))
    except (ValueError, TypeError, ZeroDivisionError):  # a point off the curve
        return False


# One way to sign whatever the registry signs, whichever algorithm: a signature says its algorithm (`sm2:<base64url
# r||s>`; an untagged base64 signature is Ed25519, the format before SM2), so verifiers accept both during a switch.
ED25519, SM2 = "ed25519", "sm2"
SIGNING_ALGORITHMS = (ED25519, SM2)
_SM2_TAG = "sm2:"


@dataclass(frozen=True)
class PublicKey:
    """A public signing key: Ed25519 (SPKI PEM) or SM2 (hex `04||x||y`)."""
    algorithm: str
    material: str

    @property
    def key_id(self) -> str:
        return key_id(self.text().encode())

    def text(self) -> str:
        """How it is written in a key set: the PEM block, or `sm2:04...`."""
        return self.material.strip() + "\n" if self.algorithm == ED25519 else f"{_SM2_TAG}{self.material}\n"

    def verifies(self, data: bytes, signature: str) -> bool:
        if self.algorithm == SM2:
            return signature.startswith(_SM2_TAG) and sm2_verify(self.material, data, signature[len(_SM2_TAG):])
        return not signature.startswith(_SM2_TAG) and ed25519_verify(self.material.encode(), data, signature)


class Signer:
    """Signs with one private key; what it makes any verifier holding the public key accepts (verify_signature)."""

    def __init__(self, algorithm: str, private: str, public: str):
        if algorithm not in SIGNING_ALGORITHMS:
            raise ValueError(f"unknown signing algorithm {algorithm!r}")
        self.algorithm, self._private, self.public_key = algorithm, private, PublicKey(algorithm, public)
        if not self.public_key.verifies(b"fsp", self.sign(b"fsp")):
            raise ValueError(f"the {algorithm} private and public keys are not one pair")

    def __repr__(self) -> str:
        return f"Signer({self.algorithm}, {self.public_key.key_id})"

    def sign(self, data: bytes) -> str:
        if self.algorithm == SM2:
            return _SM2_TAG + sm2_sign(self._private, self.public_key.material, data)
        return ed25519_sign(self._private.encode(), data)


def new_signer_files(algorithm: str = SM2) -> tuple[str, str]:
    """A new key pair as file texts (private, public), for `Signer.from_files`."""
    if algorithm == SM2:
        private_hex, public_hex = new_sm2_key()
        return f"{_SM2_TAG}{private_hex}\n", PublicKey(SM2, public_hex).text()
    private_pem, public_pem = new_exchange_signing_key()
    return private_pem.decode(), public_pem.decode()


def signer_from_files(private_text: str, public_text: str) -> Signer:
    """The signer of a key pair written by `new_signer_files` (or an Ed25519 PEM pair)."""
    public = parse_public_keys(public_text)
    if len(public) != 1:
        raise ValueError("the public key file holds no single public key")
    private = private_text.strip()
    if public[0].algorithm == SM2:
        if not private.startswith(_SM2_TAG):
            raise ValueError("not an SM2 private key")
        private = private[len(_SM2_TAG):]
    return Signer(public[0].algorithm, private, public[0].material)


_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


def parse_public_keys(text: str) -> list[PublicKey]:
    """The keys of a key set: Ed25519 PEM blocks and `sm2:04...` lines; anything else is an error."""
    keys = [PublicKey(ED25519, block) for block in _PEM_BLOCK.findall(text)]
    for line in _PEM_BLOCK.sub("", text).splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith(_SM2_TAG) or not sm2_public_key_valid(line[len(_SM2_TAG):]):
            raise ValueError("a key set holds only Ed25519 PEM blocks and sm2:04... lines")
        keys.append(PublicKey(SM2, line[len(_SM2_TAG):]))
    return keys


def verify_signature(keys: "list[PublicKey]", data: bytes, signature: str | None) -> bool:
    """True when one of `keys` made `signature` over exactly `data` (an overlap: old and new keys both count)."""
    return bool(signature) and any(key.verifies(data, signature) for key in keys)
