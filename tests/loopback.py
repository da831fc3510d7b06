"""What tests of real processes on loopback share: a free port, and waiting for something to be seen."""
import socket
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    """A port nothing listens on now (the process started next binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eventually(what: str, probe: Callable[[], object], timeout: float = 30.0):
    """Poll `probe` until it returns something truthy; fail naming `what` and the last answer."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except httpx.TransportError as err:
            last = err
        else:
            if last:
                return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen within {timeout:.0f} s; last: {last!r}")
