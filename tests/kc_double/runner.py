"""Serve an ASGI app with uvicorn in a background thread, on a free loopback port."""
import socket
import threading
import time

import uvicorn


class BackgroundServer:
    """`with BackgroundServer(app) as url:` — real HTTP on 127.0.0.1 for as long as the block runs."""

    def __init__(self, app):
        # IPPROTO_TCP spelt out: asyncio sets TCP_NODELAY only then (else every answer waits for a delayed ACK)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the background server did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
