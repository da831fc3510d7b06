"""The sandbox payment provider in a test: its own process (uvicorn on a free loopback port), as an operator
starts it; and what payment tests share."""
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from factories import booking_payload
from loopback import free_port

FEE_FEN = 38000  # 380.00 yuan: the hall's published fee


@dataclass
class Sandbox:
    url: str
    public_key_file: Path
    merchant_key: str

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, self.url + path, headers={"Authorization": f"Bearer {self.merchant_key}"},
                             timeout=10, **kwargs)

    def settings(self) -> dict:
        """The registry's settings that make it use this provider."""
        return {"payment_provider_url": self.url, "payment_provider_public_key_file": self.public_key_file,
                "payment_merchant_id": "1900000109", "payment_merchant_key": self.merchant_key}


@contextmanager
def running_sandbox(directory: Path) -> Iterator[Sandbox]:
    """`uvicorn --factory registry.payments.sandbox_provider:from_environment` until the block ends."""
    key_file, merchant_key, port = directory / "provider.pem", secrets.token_hex(16), free_port()
    env = {**os.environ, "FSP_SANDBOX_PUBLIC_KEY_FILE": str(key_file), "FSP_SANDBOX_MERCHANT_KEY": merchant_key}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                                "registry.payments.sandbox_provider:from_environment", "--host", "127.0.0.1",
                                "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200 and key_file.exists():
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the sandbox provider did not start"
            time.sleep(0.1)
        yield Sandbox(url, key_file, merchant_key)
    finally:
        process.terminate()
        process.wait(timeout=10)


def publish_fee(client, admin, institution_id: str, **overrides) -> dict:
    item = {"name": f"告别厅租用{secrets.token_hex(3)}", "category": "optional", "unit": "场", "price_fen": FEE_FEN,
            "pricing_basis": "market", "effective_from": "2025-01-01", **overrides}
    response = client.post(f"/api/v1/institutions/{institution_id}/service-items", json=item, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def book(client, citizen, resource, **overrides) -> dict:
    response = client.post("/api/v1/my/bookings", json=booking_payload(resource["id"], **overrides), headers=citizen)
    assert response.status_code == 201, response.text
    return response.json()


def wait_for(check, timeout: float = 10.0):
    """What the provider does after it answered (a refund's notice) arrives a moment later."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.05)
    return found
