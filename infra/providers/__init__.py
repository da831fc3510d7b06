"""Pulumi dynamic providers (pure Python) wrapping the ensure-functions the local target uses.

Each provider's outputs carry no credential in clear: what delete needs later is returned wrapped as a
Pulumi secret (encrypted in state), and everything else is a name, a fingerprint or a masked URL.
"""
import hashlib
import json
from typing import Any

from pulumi.runtime import rpc


def secret(value: Any) -> Any:
    """`value` marked secret on the wire, so the engine stores it encrypted."""
    return rpc.wrap_rpc_secret(value)


def reveal(value: Any) -> Any:
    """The plain value of a property that may arrive wrapped as a secret."""
    return rpc.unwrap_rpc_secret(value)


def fingerprint(value: Any) -> str:
    """A stable SHA-256 of JSON-able `value`: what state keeps to tell whether something changed."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def changed(olds: dict, news: dict, keys: tuple[str, ...]) -> list[str]:
    """The keys whose value differs between the recorded outputs and the new inputs."""
    return [key for key in keys if reveal(olds.get(key)) != reveal(news.get(key))]
