"""A tenant's key material: the registry's keys plus the pair that signs its exchange batches (SM2; Ed25519 for
tenants provisioned before the switch)."""
from pathlib import Path

from infra.ensure import Outcome, combine
from infra.ensure.files import create_exclusive, ensure_private_dir, write_atomic
from registry.exchange.signing import add_signing_version, public_key_set, signing_versions
from registry.security import crypto
from registry.security.keys import PERSON_MATCH_KEY, KeyMaterialError, ensure_keys

EXCHANGE_PRIVATE_KEY = "exchange-ed25519.pem"
EXCHANGE_PUBLIC_KEY = "exchange-ed25519.pub.pem"


def ensure_tenant_keys(keys_dir: Path, *, fleet_keys: Path | None = None) -> Outcome:
    """Every key file present, each 0600 in a 0700 directory; existing keys are never replaced.

    `fleet_keys`, for a province: the control plane's folder of keys shared by all provinces, from which the
    person-matching key is copied (made there the first time).
    """
    outcomes: list[Outcome] = [ensure_private_dir(keys_dir)]
    outcomes += ensure_keys(keys_dir).values()
    outcomes.append(_ensure_exchange_pair(keys_dir))
    if fleet_keys is not None:
        outcomes.append(_ensure_person_match_key(fleet_keys, keys_dir))
    for path in sorted(keys_dir.iterdir()):
        if path.is_file() and path.stat().st_mode & 0o777 != 0o600:
            path.chmod(0o600)
            outcomes.append("updated")
    return combine(outcomes)


def _ensure_person_match_key(fleet_keys: Path, keys_dir: Path) -> Outcome:
    """The provinces' shared person-matching key, copied into this province's keys; never silently replaced."""
    ensure_private_dir(fleet_keys)
    source = fleet_keys / PERSON_MATCH_KEY
    if not source.exists():
        # provinces converged in parallel may all find it missing: the first one made is the fleet's key
        create_exclusive(source, crypto.new_index_key(), mode=0o600)
    shared, target = source.read_bytes(), keys_dir / PERSON_MATCH_KEY
    if not target.exists():
        write_atomic(target, shared, mode=0o600)
        return "created"
    if target.read_bytes() != shared:
        # another key would break every match the ministry made with this province's earlier records
        raise KeyMaterialError(f"{target} differs from the fleet's {source}: restore one of them, never both")
    return "unchanged"


def _ensure_exchange_pair(keys_dir: Path) -> Outcome:
    """A new tenant's exchange signing pair is SM2 (version 1); a tenant provisioned before keeps its Ed25519 pair
    until `fsp keys rotate --signing`. Half a pair is never completed by a new one."""
    private, public = keys_dir / EXCHANGE_PRIVATE_KEY, keys_dir / EXCHANGE_PUBLIC_KEY
    if private.exists() != public.exists():
        # a new pair would silently rotate the key the ministry trusts: make that an explicit decision
        raise KeyMaterialError(f"half an exchange key pair in {keys_dir}: restore the missing file, "
                               f"or delete both {EXCHANGE_PRIVATE_KEY} and {EXCHANGE_PUBLIC_KEY} to rotate")
    versions = signing_versions(keys_dir)
    if versions:
        newest_private, newest_public = versions[max(versions)]
        if not newest_private.exists():
            raise KeyMaterialError(f"half an exchange key pair in {keys_dir}: {newest_private.name} is missing; "
                                   f"restore it from the key backup")
        return "unchanged"
    add_signing_version(keys_dir)
    return "created"


def exchange_public_key(keys_dir: Path) -> bytes:
    """The public keys the ministry checks this tenant's exchange batches with: one, or old and new during a
    signing key rotation (`registry.exchange.signing.public_key_set`)."""
    try:
        keys = public_key_set(keys_dir)
    except FileNotFoundError:
        keys = b""
    if not keys:
        raise KeyMaterialError(f"no exchange public key in {keys_dir} (provision the tenant first)")
    return keys
