"""`fsp serve` in a test: the local target's combined app on loopback, where the `fsp` commands look for it."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kc_double.runner import BackgroundServer
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import build_gateway
from tenants import load_catalog


@contextmanager
def serving_locally(home: Path) -> Iterator[str]:
    """The gateway of the tenants provisioned at `home`, its address recorded as `fsp serve`'s; the base URL."""
    target = LocalTarget(home, load_catalog())
    gateway, _ = build_gateway(target)
    with BackgroundServer(gateway) as url:
        host, port = url.removeprefix("http://").split(":")
        target.home.record_serve_address(host, int(port))
        yield url
