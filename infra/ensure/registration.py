"""A province's exchange public key, registered with the ministry so it accepts that province's batches.

Local target: one PEM file per province in the ministry's state (`exchange-peers/<slug>.pem`).
"""
from pathlib import Path

from infra.ensure import Outcome, Removal
from infra.ensure.files import ensure_file, remove_path


def ensure_exchange_registration(peers_dir: Path, *, slug: str, public_pem: bytes) -> Outcome:
    """The ministry trusts exactly `public_pem` for `slug`; `updated` when the province's key changed."""
    return ensure_file(peers_dir / f"{slug}.pem", public_pem, mode=0o644)


def remove_exchange_registration(peers_dir: Path, *, slug: str) -> Removal:
    """The ministry no longer accepts batches from `slug`."""
    return remove_path(peers_dir / f"{slug}.pem")


def registered_peers(peers_dir: Path) -> list[str]:
    """Slugs of the provinces registered with the ministry."""
    return sorted(p.stem for p in peers_dir.glob("*.pem")) if peers_dir.is_dir() else []
