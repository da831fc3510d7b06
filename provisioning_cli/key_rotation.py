"""Rotating and retiring a tenant's keys without downtime; each change recorded in its key ledger and audited.

- field key: a new version; new writes use it at once (a running registry rereads the ring), old rows stay readable
  and are moved by the re-encryption pass; a version is retired only once no row uses it.
- signing key (exchange batches, department notices): a new SM2 pair signs from now on; the ministry's registration
  holds old and new until the old is retired.
- token key (development issuer): the new key mints; the old one stays in the JWKS until retired.
"""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from infra.ensure.keys import exchange_public_key
from infra.ensure.registration import ensure_exchange_registration
from registry.config import Settings
from registry.exchange import signing
from registry.journal import OK, REFUSED, Journal
from registry.security import crypto, field_keys
from registry.security.key_ledger import forget_key, record_keys
from registry.security.keys import PREVIOUS_TOKEN_KEY, TOKEN_KEY, KeyMaterialError, write_secret
from registry.security.reencryption import reencrypt, versions_in_use

ACTOR = "fsp keys"
KINDS = ("field", "signing", "token")


class KeyRotationError(KeyMaterialError):
    """The rotation or retirement asked for would lose data or break a verifier."""


@dataclass(frozen=True)
class TenantKeyPlace:
    """Where one tenant's keys, database and (for a province) its registration with the ministry are."""
    settings: Settings
    engine: Engine
    # the ministry's file of this province's accepted exchange keys, or None (the ministry, exchange off)
    registration: Path | None = None

    @property
    def keys_dir(self) -> Path:
        return self.settings.keys_dir

    def audit(self, action: str, kind: str, detail: dict[str, Any], *, result: str = OK) -> None:
        journal = Journal.of(self.engine, keys_dir=self.keys_dir, checkpoint_file=self.settings.audit_checkpoint_path)
        with Session(self.engine) as session, journal.write(session, actor=ACTOR) as unit:
            unit.record(action=action, object_type="key", object_id=kind, detail=detail, result=result)
        journal.anchor.flush()

    def register(self) -> bool:
        """The ministry accepts exactly the province's present exchange keys; whether there is a registration."""
        if self.registration is None:
            return False
        ensure_exchange_registration(self.registration.parent, slug=self.registration.stem,
                                     public_pem=exchange_public_key(self.keys_dir))
        return True


@contextmanager
def _refusals_audited(place: TenantKeyPlace, action: str, kind: str) -> Iterator[None]:
    try:
        yield
    except KeyRotationError as refusal:
        place.audit(action, kind, {"reason": str(refusal)}, result=REFUSED)
        raise


def rotate(place: TenantKeyPlace, kind: str) -> dict[str, Any]:
    """Add a new key of `kind`; what was made (never the key), recorded and audited (a refusal too)."""
    with _refusals_audited(place, "rotate_key", kind):
        detail = _rotate(place, kind)
    record_keys(place.engine, place.keys_dir)
    place.audit("rotate_key", kind, detail)
    return {"kind": kind, **detail}


def _rotate(place: TenantKeyPlace, kind: str) -> dict[str, Any]:
    if kind == "field":
        version = field_keys.add_version(place.keys_dir)
        detail = {"version": version, "key_id": crypto.key_id((place.keys_dir / field_keys.file_name(version))
                                                               .read_bytes())}
    elif kind == "signing":
        registered = []
        version = signing.add_signing_version(place.keys_dir, publish=lambda: registered.append(place.register()))
        detail = {"version": version, "algorithm": signing.BatchSigner(place.keys_dir).algorithm,
                  "accepted": [key.key_id for key in crypto.parse_public_keys(
                      signing.public_key_set(place.keys_dir).decode())],
                  "registered_with_ministry": registered[0]}
    elif kind == "token":
        current, previous = place.keys_dir / TOKEN_KEY, place.keys_dir / PREVIOUS_TOKEN_KEY
        if previous.exists():
            raise KeyRotationError(f"{previous} is still accepted from the last rotation: "
                                   f"`fsp keys retire {place.settings.tenant_slug} --token` first")
        current.rename(previous)
        write_secret(current, crypto.new_rsa_private_pem())
        detail = {"key_id": crypto.key_id(current.read_bytes()), "previous_key_id": crypto.key_id(previous.read_bytes())}
    else:
        raise ValueError(kind)
    return detail


def run_reencryption(place: TenantKeyPlace, *, batch: int = 200,
                     progress: Callable[[str, int], None] = lambda field, moved: None) -> dict[str, Any]:
    """Move every encrypted value to the newest field key version (resumable); audited with what it moved."""
    ring = field_keys.FieldKeyRing.load(place.keys_dir)
    moved = reencrypt(place.engine, ring, batch=batch, progress=progress)
    remaining = versions_in_use(place.engine, ring)
    detail = {"version": ring.current_version, "moved": sum(moved.values()),
              "by_version": {str(version): count for version, count in sorted(remaining.items())}}
    place.audit("reencrypt", "field", detail)
    return {"kind": "field", **detail, "moved_by_field": {name: n for name, n in moved.items() if n}}


def retire(place: TenantKeyPlace, kind: str, *, version: int | None = None) -> dict[str, Any]:
    """Remove an old key once nothing depends on it; audited (a refusal too)."""
    with _refusals_audited(place, "retire_key", kind):
        detail = _retire(place, kind, version)
    place.audit("retire_key", kind, detail)
    return {"kind": kind, **detail}


def _retire(place: TenantKeyPlace, kind: str, version: int | None) -> dict[str, Any]:
    if kind == "field":
        detail = _retire_field(place, version)
    elif kind == "signing":
        retired = signing.retire_older_signing_versions(place.keys_dir)
        if not retired:
            raise KeyRotationError("only one exchange signing key: nothing to retire")
        detail = {"retired_versions": retired, "registered_with_ministry": place.register()}
    elif kind == "token":
        previous = place.keys_dir / PREVIOUS_TOKEN_KEY
        if not previous.exists():
            raise KeyRotationError("no token key was rotated out: nothing to retire")
        detail = {"key_id": crypto.key_id(previous.read_bytes())}
        previous.unlink()
    else:
        raise ValueError(kind)
    return detail


def _retire_field(place: TenantKeyPlace, version: int | None) -> dict[str, Any]:
    ring = field_keys.FieldKeyRing.load(place.keys_dir)
    if version is None or version not in ring.versions:
        raise KeyRotationError(f"give the field key version to retire, one of {ring.versions[:-1] or 'none'}")
    if version == ring.current_version:
        raise KeyRotationError(f"field key version {version} is the newest: new writes use it")
    in_use = versions_in_use(place.engine, ring).get(version, 0)
    if in_use:
        raise KeyRotationError(f"{in_use} encrypted values still use field key version {version}: run "
                               f"`fsp keys reencrypt {place.settings.tenant_slug}` first")
    path = place.keys_dir / field_keys.file_name(version)
    key_id = crypto.key_id(path.read_bytes())
    path.unlink()
    forget_key(place.engine, place.keys_dir, path.name)
    return {"version": version, "key_id": key_id}


def describe(place: TenantKeyPlace) -> dict[str, Any]:
    """Each rotatable key's versions and ids (never the keys), and how many values each field key version holds."""
    ring = field_keys.FieldKeyRing.load(place.keys_dir)
    signing_keys = crypto.parse_public_keys(signing.public_key_set(place.keys_dir).decode())
    tokens = [place.keys_dir / TOKEN_KEY, place.keys_dir / PREVIOUS_TOKEN_KEY]
    return {"field": {"current": ring.current_version, "versions": ring.versions,
                      "values_by_version": {str(v): n for v, n in sorted(versions_in_use(place.engine, ring).items())}},
            "signing": [{"algorithm": key.algorithm, "key_id": key.key_id} for key in signing_keys],
            "token": [crypto.key_id(path.read_bytes()) for path in tokens if path.exists()]}
