"""Real processes for the fleet's monitoring tests: `fsp serve` of one tenant, queries of a Prometheus, a webhook
that records what Alertmanager posts, and polling with a deadline. Loopback only."""
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from loopback import free_port

FSP = str(Path(sys.executable).with_name("fsp"))


def query(url: str, expr: str) -> list[dict]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def by_province(url: str, expr: str) -> dict[str, float]:
    return {series["metric"].get("province"): float(series["value"][1]) for series in query(url, expr)}


class Served:
    """`fsp serve --tenant <slug>` in its own process, on its own port."""

    def __init__(self, slug: str, home: Path, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/{slug}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FSP_")}
        with log.open("w") as out:
            self.proc = subprocess.Popen([FSP, "serve", "--tenant", slug, "--port", str(self.port), "--home", str(home)],
                                         env=env, stdout=out, stderr=subprocess.STDOUT)
        self.log = log

    def ready(self) -> bool:
        assert self.proc.poll() is None, f"fsp serve exited:\n{self.log.read_text()}"
        return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Webhook:
    """An HTTP server on loopback recording every JSON body POSTed to it (Alertmanager's webhook receiver)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def groups(self, alertname: str, status: str = "firing") -> dict[tuple[str, str], dict]:
        """The notifications received carrying `alertname` in `status`, by (province, severity) of their group."""
        return {(body["groupLabels"].get("province"), body["groupLabels"].get("severity")): body
                for body in list(self.received)
                if any(a["labels"]["alertname"] == alertname and a["status"] == status for a in body["alerts"])}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
