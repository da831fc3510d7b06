"""`fsp serve` in a test: the local target's combined app on loopback, where the `fsp` commands look for it, or
the real command in its own process."""
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from kc_double.runner import BackgroundServer
from loopback import free_port
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import build_gateway
from tenants import load_catalog

FSP = str(Path(sys.executable).with_name("fsp"))


@contextmanager
def serving_locally(home: Path) -> Iterator[str]:
    """The gateway of the tenants provisioned at `home`, its address recorded as `fsp serve`'s; the base URL."""
    target = LocalTarget(home, load_catalog())
    gateway, _ = build_gateway(target)
    with BackgroundServer(gateway) as url:
        host, port = url.removeprefix("http://").split(":")
        target.home.record_serve_address(host, int(port))
        yield url


class ServeProcess:
    """`fsp serve` in its own process on a free loopback port (`with ServeProcess(home, log, *options) as url:`),
    stopped with SIGTERM at the end; its output goes to `log`."""

    def __init__(self, home: Path, log: Path, *options: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [FSP, "serve", "--port", str(self.port), "--home", str(home), *options]
        self.log = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FSP_")}
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(self._command, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"fsp serve exited:\n{self.log.read_text()}"
            try:
                if httpx.get(f"{self.url}/", timeout=1).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"fsp serve did not answer within 60 s:\n{self.log.read_text()}")

    def __exit__(self, *exc) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
