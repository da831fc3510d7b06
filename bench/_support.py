"""Shared plumbing of the benchmarks: scratch PostgreSQL databases, uvicorn servers, a keep-alive load generator."""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
DB_PREFIX = "fsp_bench"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- PostgreSQL --------------------------------------------------------------------------------------------------

def pg_admin_url(explicit: str | None = None) -> str:
    """The admin URL: --pg-url, else $FSP_TEST_PG_URL, else what scripts/postgres-test-server prints (starts it)."""
    if explicit:
        return explicit
    if os.environ.get("FSP_TEST_PG_URL"):
        return os.environ["FSP_TEST_PG_URL"]
    out = subprocess.run([str(ROOT / "scripts" / "postgres-test-server")], check=True, text=True,
                         capture_output=True)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise SystemExit(f"scripts/postgres-test-server printed no URL:\n{out.stderr}")
    return lines[-1]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


class ScratchDatabases:
    """Creates fresh databases named fsp_bench_<pid>_<hex> and drops them all (WITH (FORCE)) on close."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self._admin = psycopg.connect(_libpq(admin_url), autocommit=True)
        self._names: list[str] = []
        self._sweep_dead()

    def _sweep_dead(self) -> None:
        # a killed run skips its cleanup; its databases carry its pid
        if not str(self._admin.info.host).startswith("/"):
            return
        rows = self._admin.execute(
            r"SELECT datname FROM pg_database WHERE datname ~ %s", (rf"^{DB_PREFIX}_[0-9]+_[0-9a-f]{{12}}$",)
        ).fetchall()
        for (name,) in rows:
            if not Path(f"/proc/{name.split('_')[2]}").exists():
                try:
                    self._drop(name)
                except psycopg.Error as err:
                    print(f"warning: could not drop a killed run's database {name} ({err})", file=sys.stderr)

    def _drop(self, name: str) -> None:
        from infra.ensure.database import drop_database

        drop_database(self._admin, name)

    def create(self) -> str:
        name = f"{DB_PREFIX}_{os.getpid()}_{secrets.token_hex(6)}"
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._names.append(name)
        return with_database(self.admin_url, name)

    def close(self) -> None:
        """Drop this run's databases; one that cannot be dropped now (a backend of another role, e.g. autovacuum on
        a large table, still on it) is named on stderr and swept by the next run: a run's results never depend on
        its cleanup."""
        while self._names:
            name = self._names.pop()
            try:
                self._drop(name)
            except psycopg.Error as err:
                print(f"warning: could not drop scratch database {name} ({err}); the next run drops it",
                      file=sys.stderr)
        self._admin.close()


# --- servers ------------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`uvicorn --factory <target>` with ONE worker on 127.0.0.1 (more workers show a ~44 ms artefact here)."""

    def __init__(self, target: str, env: dict[str, str], *, ready_path: str, app_dir: Path | None = None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", "1", "--log-level", "warning", "--no-access-log"]
        if app_dir:
            cmd += ["--app-dir", str(app_dir)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{target} exited with {self.proc.returncode} before serving")
            try:
                if httpx.get(self.base_url + ready_path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{target} not ready within 60 s")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """user+system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def serving(target: str, env: dict[str, str], *, ready_path: str, app_dir: Path | None = None) -> Iterator[Server]:
    server = Server(target, env, ready_path=ready_path, app_dir=app_dir)
    try:
        yield server
    finally:
        server.stop()


# --- load ---------------------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    requests: int
    ok: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    server_cpu: float = float("nan")  # server CPU seconds / wall seconds (1.0 = one core busy)
    client_cpu: float = float("nan")  # load generator process CPU seconds / wall seconds
    mean_batch: float | None = None  # writes per transaction, where the app reports it (group commit)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict:
        return {"requests": self.requests, "ok": self.ok, "errors": sum(self.errors.values()),
                "error_kinds": dict(self.errors), "seconds": round(self.seconds, 3), "rps": round(self.rps, 1),
                "p50_ms": round(self.pct(0.50), 2), "p95_ms": round(self.pct(0.95), 2),
                "p99_ms": round(self.pct(0.99), 2), "server_cpu": round(self.server_cpu, 2),
                "client_cpu": round(self.client_cpu, 2)}


class _RawConnection:
    """A minimal keep-alive HTTP/1.1 client connection: prebuilt request bytes out, status + body in.

    Much cheaper per request than httpx, so on a small machine the load generator takes less CPU away from the
    server under test. Answers must carry Content-Length (uvicorn's JSON answers do)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise RuntimeError("answer without Content-Length")
        body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def _raw_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"host: {host}:{port}", "content-type: application/json",
            f"content-length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _drive(base_url: str, path: str, bodies: Sequence[bytes], headers: dict[str, str], concurrency: int,
                 expect: int, timeout_s: float, client_kind: str) -> RunResult:
    latencies: list[float] = []
    errors: Counter = Counter()
    samples: list[str] = []
    next_index = 0

    def failed(kind: str, detail: str) -> None:
        errors[kind] += 1
        if len(samples) < 5:
            samples.append(detail)

    if client_kind == "raw":
        url = httpx.URL(base_url)
        requests = [_raw_request(url.host, url.port, path, body, headers) for body in bodies]  # before timing
        connections = [_RawConnection(url.host, url.port) for _ in range(concurrency)]

        async def worker(slot: int) -> None:
            nonlocal next_index
            connection = connections[slot]
            while next_index < len(requests):
                request = requests[next_index]
                next_index += 1
                started = time.perf_counter()
                try:
                    status, answer = await connection.post(request)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, RuntimeError) as exc:
                    await connection.close()
                    failed(type(exc).__name__, repr(exc))
                    continue
                elapsed = time.perf_counter() - started
                if status == expect:
                    latencies.append(elapsed * 1000)
                else:
                    failed(str(status), f"{status}: {answer[:300].decode(errors='replace')}")

        async def close_all() -> None:
            for connection in connections:
                await connection.close()
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        client = httpx.AsyncClient(base_url=base_url, http1=True, http2=False, limits=limits,
                                   timeout=httpx.Timeout(30.0))
        all_headers = {"content-type": "application/json", **headers}

        async def worker(slot: int) -> None:
            nonlocal next_index
            while next_index < len(bodies):
                body = bodies[next_index]
                next_index += 1
                started = time.perf_counter()
                try:
                    response = await client.post(path, content=body, headers=all_headers)
                except httpx.HTTPError as exc:
                    failed(type(exc).__name__, repr(exc))
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code == expect:
                    latencies.append(elapsed * 1000)
                else:
                    failed(str(response.status_code), f"{response.status_code}: {response.text[:300]}")

        async def close_all() -> None:
            await client.aclose()

    try:
        cpu0, started = time.process_time(), time.perf_counter()
        tasks = [asyncio.create_task(worker(slot)) for slot in range(concurrency)]
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        seconds = time.perf_counter() - started
        client_cpu = (time.process_time() - cpu0) / seconds if seconds else float("nan")
        for task in done:
            if task.exception():
                failed(type(task.exception()).__name__, repr(task.exception()))
        missing = len(bodies) - len(latencies) - sum(errors.values())
        if missing > 0:  # not sent, or still in flight at the deadline
            errors["timeout"] += missing
    finally:
        await close_all()
    return RunResult(requests=len(bodies), ok=len(latencies), seconds=seconds, latencies_ms=latencies,
                     errors=errors, error_samples=samples, client_cpu=client_cpu)


def post_load(server: Server, path: str, bodies: Sequence[bytes], headers: dict[str, str], *, concurrency: int,
              expect: int = 201, timeout_s: float = 300.0, client: str = "raw") -> RunResult:
    """POST each body once over `concurrency` keep-alive HTTP/1.1 connections; time it and the server's CPU.

    client: "raw" (a minimal asyncio HTTP/1.1 client, cheap) or "httpx" (httpx.AsyncClient)."""
    cpu0 = server.cpu_seconds()
    result = asyncio.run(_drive(server.base_url, path, bodies, headers, concurrency, expect, timeout_s, client))
    result.server_cpu = (server.cpu_seconds() - cpu0) / result.seconds if result.seconds else float("nan")
    return result


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- the command line every load benchmark shares ---------------------------------------------------------------

def load_arguments(parser, *, unit: str) -> None:
    """The options of a load benchmark: how much load, where PostgreSQL is, how to report."""
    parser.add_argument("--requests", type=int, default=2000, help=f"measured requests per {unit} and round")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests before each measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections of the load generator")
    parser.add_argument("--rounds", type=int, default=3, help=f"measurements per {unit}; medians are reported")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one measurement may take")
    parser.add_argument("--pg-url", help="admin URL (default: $FSP_TEST_PG_URL, else scripts/postgres-test-server)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ratio is below its target")


def run_benchmark(parser, argv, run, print_table) -> int:
    """Parse, run and report: 2 when the run was not valid, 1 below target with --strict, else 0."""
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency and --rounds must be positive, --warmup not negative")
    # SIGTERM unwinds like Ctrl-C, so servers are stopped and databases dropped
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    out = run(args)
    if args.json:
        import json
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_table(out)
    if not out["valid"]:
        return 2
    return 1 if args.strict and out["verdict"] == "BELOW" else 0
